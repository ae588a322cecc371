// Tests of CUBIC (RFC 9438) and its HyStart++ slow start (RFC 9406) alone, fed ACK events.
#include <catch2/catch.hpp>

#include <cmath>

#include "stack/tcp/congestion.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {

constexpr std::uint32_t kMss = 1000;

AckEvent ack(std::uint32_t bytes, Instant now, Duration srtt, std::optional<Duration> rtt = {},
             bool round_end = false) {
  AckEvent e;
  e.acked = bytes;
  e.mss = kMss;
  e.now = now;
  e.srtt = srtt;
  e.rtt = rtt;
  e.round_end = round_end;
  return e;
}

double segments(const CongestionControl& cc) {
  return static_cast<double>(cc.cwnd()) / kMss;
}

// A CUBIC that lost at `w_max` segments and has recovered to ssthresh, in congestion avoidance.
std::unique_ptr<CongestionControl> after_loss_at(std::uint32_t w_max) {
  auto cc = make_cubic();
  cc->set_cwnd(w_max * kMss);
  cc->on_loss(LossEvent{w_max * kMss, kMss, Instant::from_micros(0)});
  cc->set_cwnd(cc->ssthresh());  // recovery's end: cwnd = ssthresh
  return cc;
}

// One window of ACKs (one per segment) per `rtt`, from `start` for `duration`.
void run(CongestionControl& cc, Instant start, Duration duration, Duration rtt) {
  for (Instant t = start; t < start + duration; t += rtt) {
    const auto n = static_cast<int>(cc.cwnd() / kMss);
    for (int i = 0; i < n; ++i) cc.on_ack(ack(kMss, t, rtt));
  }
}

}  // namespace

TEST_CASE("cubic multiplies the window by beta 0.7 on a loss (RFC 9438 §4.6)", "[tcp][cc][cubic]") {
  auto cc = make_cubic();
  CHECK(cc->name() == "cubic");
  cc->set_cwnd(100 * kMss);
  cc->on_loss(LossEvent{100 * kMss, kMss, Instant{}});
  CHECK(cc->ssthresh() == 70 * kMss);
}

TEST_CASE(
    "cubic climbs back to W_max after K = cbrt(W_max (1 - beta) / C) seconds, then "
    "beyond it (RFC 9438 §4.2)",
    "[tcp][cc][cubic]") {
  // W_max 100 segments: K = cbrt(100 · 0.3 / 0.4) = 4.217 s. With a 100 ms RTT the
  // Reno-friendly estimate grows only 0.53 segment per RTT, so the cubic curve leads.
  auto cc = after_loss_at(100);
  const Duration rtt = 100ms;
  const double k = std::cbrt(100 * 0.3 / 0.4);
  run(*cc, Instant::from_micros(1'000'000), Duration{2'000'000}, rtt);
  // At t = 2 s: W(t) = 0.4 (2 - 4.217)^3 + 100 = 95.6; the sender aims one RTT ahead, and
  // per-ACK growth lags a little behind its target.
  const double at_2s = 0.4 * std::pow(2.0 + 0.1 - k, 3) + 100;
  CHECK(segments(*cc) == Approx(at_2s).margin(2.5));
  run(*cc, Instant::from_micros(3'000'000), Duration{2'200'000}, rtt);
  // Near K the window plateaus at W_max.
  CHECK(segments(*cc) == Approx(100).margin(2.5));
  run(*cc, Instant::from_micros(5'200'000), Duration{2'000'000}, rtt);
  // Past K the convex region probes beyond W_max: W(6.2) = 0.4 · 1.98^3 + 100 = 103.1.
  CHECK(segments(*cc) > 101);
}

TEST_CASE(
    "on a short RTT cubic is never slower than Reno: the Reno-friendly region "
    "(RFC 9438 §4.3)",
    "[tcp][cc][cubic]") {
  // W_max 20 segments, RTT 1 ms: in 200 ms the cubic curve has barely moved from 14 segments
  // (K = 2.47 s; W(0.2 s) = 15.3), while W_est has grown by alpha (0.53) a round for 200
  // rounds, and by 1 a round once past the window of the loss.
  auto cc = after_loss_at(20);
  run(*cc, Instant::from_micros(1'000'000), Duration{200'000}, 1ms);
  const double cubic_at = 0.4 * std::pow(0.2 - std::cbrt(20 * 0.3 / 0.4), 3) + 20;
  CHECK(cubic_at < 16);
  CHECK(segments(*cc) > 20);
}

TEST_CASE("a second loss below W_max lowers W_max further: fast convergence (RFC 9438 §4.7)",
          "[tcp][cc][cubic]") {
  auto cc = after_loss_at(100);
  run(*cc, Instant::from_micros(1'000'000), Duration{1'000'000}, 100ms);
  REQUIRE(segments(*cc) < 100);
  const double before = segments(*cc);
  cc->on_loss(LossEvent{cc->cwnd(), kMss, Instant::from_micros(2'000'000)});
  cc->set_cwnd(cc->ssthresh());
  // W_max = cwnd (1 + beta) / 2 = 0.85 cwnd, not cwnd.
  CHECK(cc->state().find("w_max=" + std::to_string(static_cast<int>(before * 0.85))) == 0);
}

TEST_CASE("cubic gives up to one segment after a timeout (RFC 9438 §4.8)", "[tcp][cc][cubic]") {
  auto cc = make_cubic();
  cc->set_cwnd(50 * kMss);
  cc->on_timeout(LossEvent{50 * kMss, kMss, Instant{}});
  CHECK(cc->cwnd() == kMss);
  CHECK(cc->ssthresh() == 35 * kMss);
}

TEST_CASE("HyStart++ grows at most L = 8 segments per ACK when not pacing (RFC 9406 §4.2)",
          "[tcp][cc][cubic]") {
  auto cc = make_cubic();
  cc->set_cwnd(10 * kMss);
  cc->on_ack(ack(20 * kMss, Instant{}, 100ms));
  CHECK(cc->cwnd() == 18 * kMss);
}

TEST_CASE(
    "HyStart++ leaves slow start when a round's minimum RTT rises by the threshold, and "
    "ends Conservative Slow Start after 5 rounds (RFC 9406 §4.2)",
    "[tcp][cc][cubic]") {
  auto cc = make_cubic();
  cc->set_cwnd(10 * kMss);
  Instant t = Instant::from_micros(1'000'000);
  // A round of 8 samples at 100 ms, then a round of 8 at 120 ms: the threshold is
  // clamp(100/8, 4, 16) = 12.5 ms, and 120 >= 112.5.
  for (int i = 0; i < 8; ++i) cc->on_ack(ack(kMss, t, 100ms, 100ms, i == 0));
  t += 100ms;
  for (int i = 0; i < 7; ++i) cc->on_ack(ack(kMss, t, 100ms, 120ms, i == 0));
  CHECK(cc->state().find("css=0") != std::string::npos);
  cc->on_ack(ack(kMss, t, 100ms, 120ms));  // the 8th sample of the round
  CHECK(cc->state().find("css=1") != std::string::npos);
  // In CSS the growth is a quarter: 4 segments acknowledged add 1.
  const std::uint32_t before = cc->cwnd();
  for (int i = 0; i < 4; ++i) cc->on_ack(ack(kMss, t, 100ms, 120ms));
  CHECK(cc->cwnd() == before + kMss);
  // Five rounds of CSS (RTT still high) end slow start: ssthresh = cwnd, and the ACK that ends
  // the fifth round already grows the window by congestion avoidance's rule (a fraction).
  for (int round = 0; round < 5; ++round) {
    t += 120ms;
    cc->on_ack(ack(kMss, t, 120ms, 120ms, true));
  }
  CHECK(cc->ssthresh() <= cc->cwnd());
  CHECK(cc->cwnd() - cc->ssthresh() < kMss);
}

TEST_CASE("a round whose RTT falls below the CSS baseline resumes slow start (RFC 9406 §4.2)",
          "[tcp][cc][cubic]") {
  auto cc = make_cubic();
  cc->set_cwnd(10 * kMss);
  Instant t = Instant::from_micros(1'000'000);
  for (int i = 0; i < 8; ++i) cc->on_ack(ack(kMss, t, 100ms, 100ms, i == 0));
  t += 100ms;
  for (int i = 0; i < 8; ++i) cc->on_ack(ack(kMss, t, 100ms, 120ms, i == 0));
  REQUIRE(cc->state().find("css=1") != std::string::npos);
  t += 100ms;
  cc->on_ack(ack(kMss, t, 100ms, 90ms, true));  // a new round, its minimum below 120 ms
  CHECK(cc->state().find("css=0") != std::string::npos);
}

TEST_CASE("no algorithm grows a window the application did not fill (RFC 7661 §4.3)", "[tcp][cc]") {
  for (auto* make : {&make_reno, &make_newreno, &make_cubic}) {
    auto cc = (*make)();
    cc->set_cwnd(10 * kMss);
    AckEvent e = ack(5 * kMss, Instant{}, 10ms);
    e.cwnd_limited = false;
    cc->on_ack(e);
    CHECK(cc->cwnd() == 10 * kMss);
  }
}

TEST_CASE("the algorithms are found by their TCP_CONGESTION names", "[tcp][cc]") {
  CHECK(make_congestion("reno")->name() == "reno");
  CHECK(make_congestion("newreno")->name() == "newreno");
  CHECK(make_congestion("cubic")->name() == "cubic");
  CHECK(make_congestion("bbr") == nullptr);
  CHECK(available_congestion().size() == 3);
  CHECK(make_congestion(default_congestion)->name() == "cubic");
}
