// The fault model's bottleneck: frames leave at the link's rate through a drop-tail queue.
#include <catch2/catch.hpp>

#include <vector>

#include "drivers/fault_model.hpp"
#include "drivers/memory_link.hpp"

using namespace tapir;

namespace {

constexpr Instant t0 = Instant::from_micros(1'000'000);

Instant at(std::int64_t micros) {
  return t0 + Duration{micros};
}

// 8 Mbit/s: one byte a microsecond, so times below read as byte counts.
LinkConfig byte_per_micro() {
  LinkConfig link;
  link.rate = 8'000'000;
  return link;
}

}  // namespace

TEST_CASE("A bottleneck sends frames one after another at its rate", "[drivers]") {
  FaultModel model(byte_per_micro());
  std::vector<Instant> arrivals;
  for (int i = 0; i < 3; ++i) {
    const auto fate = model.decide(t0, 1000);
    REQUIRE(fate.copies == 1);
    arrivals.push_back(fate.arrival[0]);
  }
  CHECK(arrivals == std::vector<Instant>{at(1000), at(2000), at(3000)});
  // An idle bottleneck sends at once: the frame takes only its own time.
  const auto later = model.decide(at(10'000), 500);
  CHECK(later.arrival[0] == at(10'500));
}

TEST_CASE("A bottleneck keeps time in nanoseconds, so rounding does not add up", "[drivers]") {
  LinkConfig link;
  link.rate = 100'000'000;  // a 1514-byte frame takes 121.12 µs
  FaultModel model(link);
  FaultModel::Fate fate;
  for (int i = 0; i < 10; ++i) fate = model.decide(t0, 1514);
  CHECK(fate.arrival[0] == at(1212));  // 1211.2 µs, and a frame never arrives early
}

TEST_CASE("A bottleneck's drop-tail queue holds at most queue_bytes, the frame being sent included",
          "[drivers]") {
  LinkConfig link = byte_per_micro();
  link.queue_bytes = 2500;
  FaultModel model(link);
  CHECK(model.decide(t0, 1000).copies == 1);
  CHECK(model.decide(t0, 1000).copies == 1);
  CHECK(model.decide(t0, 1000).copies == 0);  // 3000 bytes would be queued
  CHECK(model.stats().overflowed == 1);
  CHECK(model.stats().lost == 0);
  // Once the first frame has left, there is room again; the dropped one took no time.
  const auto fate = model.decide(at(1000), 1000);
  REQUIRE(fate.copies == 1);
  CHECK(fate.arrival[0] == at(3000));
}

TEST_CASE("Delay comes after the bottleneck: a frame arrives its latency after it has left",
          "[drivers]") {
  LinkConfig link = byte_per_micro();
  link.delay = Duration{5000};
  FaultModel model(link);
  CHECK(model.decide(t0, 1000).arrival[0] == at(6000));
  CHECK(model.decide(t0, 1000).arrival[0] == at(7000));
}

TEST_CASE("Switching the bottleneck on leaves a seed's loss pattern as it was", "[drivers]") {
  LinkConfig lossy;
  lossy.loss = 0.3;
  lossy.seed = 5;
  LinkConfig limited = lossy;
  limited.rate = 10'000'000;
  FaultModel plain(lossy);
  FaultModel slow(limited);
  for (int i = 0; i < 200; ++i) {
    CAPTURE(i);
    CHECK(plain.decide(at(i * 10), 100).copies == slow.decide(at(i * 10), 100).copies);
  }
  CHECK(slow.stats().lost > 0);
  CHECK(slow.stats().lost == plain.stats().lost);
}

TEST_CASE("A memory link with a rate delivers frames spaced by their transmission time",
          "[drivers]") {
  LinkConfig link = byte_per_micro();
  link.queue_bytes = 3000;
  auto [a, b] = MemoryLink::pair(link);
  const std::vector<std::uint8_t> frame(1000, 0x42);
  for (int i = 0; i < 4; ++i) a->transmit(t0, frame);  // the fourth finds the queue full
  CHECK(b->inbound_faults().overflowed == 1);
  CHECK(b->next_deadline() == at(1000));
  int received = 0;
  const auto count = [&received](std::span<const std::uint8_t>) { ++received; };
  CHECK(b->receive(at(1999), count, 16) == 1);
  CHECK(b->next_deadline() == at(2000));
  CHECK(b->receive(at(3000), count, 16) == 2);
  CHECK(received == 3);
  // Each direction has its own bottleneck: B's frame does not wait behind A's.
  b->transmit(t0, frame);
  CHECK(a->next_deadline() == at(1000));
}
