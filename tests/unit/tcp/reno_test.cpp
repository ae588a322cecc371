// Tests of Reno congestion control alone (RFC 5681 §3.1 with RFC 3465's byte counting).
#include <catch2/catch.hpp>

#include "stack/tcp/congestion.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {
constexpr std::uint32_t kMss = 1000;
}

TEST_CASE("reno's slow start grows by the bytes acknowledged, at most 2 SMSS per ACK",
          "[tcp][cc]") {
  auto cc = make_reno();
  CHECK(cc->name() == "reno");
  cc->set_cwnd(10 * kMss);
  cc->on_ack(AckEvent{1500, 0, kMss, Instant{}, {}});
  CHECK(cc->cwnd() == 11'500);
  cc->on_ack(AckEvent{5000, 0, kMss, Instant{}, {}});
  CHECK(cc->cwnd() == 13'500);  // RFC 3465 §2.2: L = 2
}

TEST_CASE("reno's congestion avoidance adds one SMSS per window of acknowledged bytes",
          "[tcp][cc]") {
  auto cc = make_reno();
  cc->set_cwnd(4 * kMss);
  cc->on_loss(LossEvent{8 * kMss, kMss, Instant{}});  // ssthresh 4000
  REQUIRE(cc->ssthresh() == 4000);
  for (int i = 0; i < 3; ++i) cc->on_ack(AckEvent{kMss, 0, kMss, Instant{}, {}});
  CHECK(cc->cwnd() == 4000);
  cc->on_ack(AckEvent{kMss, 0, kMss, Instant{}, {}});
  CHECK(cc->cwnd() == 5000);
}

TEST_CASE("reno's ssthresh after a loss is max(FlightSize/2, 2 SMSS) (RFC 5681 eq. 4)",
          "[tcp][cc]") {
  auto cc = make_reno();
  cc->on_loss(LossEvent{10 * kMss, kMss, Instant{}});
  CHECK(cc->ssthresh() == 5000);
  cc->on_loss(LossEvent{kMss, kMss, Instant{}});
  CHECK(cc->ssthresh() == 2000);
}

TEST_CASE("a timeout leaves reno one segment of window (RFC 5681 §3.1)", "[tcp][cc]") {
  auto cc = make_reno();
  cc->set_cwnd(20 * kMss);
  cc->on_timeout(LossEvent{20 * kMss, kMss, Instant{}});
  CHECK(cc->cwnd() == kMss);
  CHECK(cc->ssthresh() == 10 * kMss);
}
