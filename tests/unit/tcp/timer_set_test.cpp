// Tests of tcp::TimerSet: arming, moving, stopping and firing a connection's timers.
#include <catch2/catch.hpp>

#include <vector>

#include "stack/tcp/timer_set.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {
const Instant t0 = Instant::from_micros(1'000'000);
}

TEST_CASE("each armed timer fires once, when its deadline has passed, naming itself",
          "[tcp][timers]") {
  TimerQueue queue;
  std::vector<std::pair<Timer, Instant>> fired;
  TimerSet timers(queue, [&](Timer t, Instant now) { fired.emplace_back(t, now); });
  timers.arm(Timer::delayed_ack, t0 + 40ms);
  timers.arm(Timer::retransmit, t0 + 200ms);
  CHECK(timers.armed(Timer::delayed_ack));
  CHECK(timers.deadline(Timer::retransmit) == t0 + 200ms);
  queue.advance(t0 + 100ms);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].first == Timer::delayed_ack);
  CHECK(fired[0].second == t0 + 100ms);  // the queue's callbacks get the time of the advance
  CHECK_FALSE(timers.armed(Timer::delayed_ack));
  queue.advance(t0 + 1s);
  REQUIRE(fired.size() == 2);
  CHECK(fired[1].first == Timer::retransmit);
  CHECK_FALSE(timers.armed(Timer::retransmit));
}

TEST_CASE("re-arming moves a timer; a stopped one does not fire", "[tcp][timers]") {
  TimerQueue queue;
  int fires = 0;
  TimerSet timers(queue, [&](Timer, Instant) { ++fires; });
  timers.arm(Timer::persist, t0 + 1s);
  timers.arm(Timer::persist, t0 + 2s);
  queue.advance(t0 + 1500ms);
  CHECK(fires == 0);
  queue.advance(t0 + 2s);
  CHECK(fires == 1);
  timers.arm(Timer::time_wait, t0 + 3s);
  timers.stop(Timer::time_wait);
  queue.advance(t0 + 10s);
  CHECK(fires == 1);
}

TEST_CASE(
    "the retransmission timer moved later keeps one queue entry and fires at the new "
    "deadline (lazy re-arm)",
    "[tcp][timers]") {
  TimerQueue queue;
  std::vector<Instant> fired;
  TimerSet timers(queue, [&](Timer, Instant now) { fired.push_back(now); });
  timers.arm(Timer::retransmit, t0 + 200ms);
  for (int i = 1; i <= 5; ++i) timers.arm(Timer::retransmit, t0 + 200ms + i * 10ms);
  CHECK(queue.size() == 1);
  queue.advance(t0 + 200ms);  // the old entry wakes, finds a later deadline, re-queues
  CHECK(fired.empty());
  queue.advance(t0 + 250ms);
  CHECK(fired == std::vector<Instant>{t0 + 250ms});
}

TEST_CASE("cancel_all leaves nothing in the queue", "[tcp][timers]") {
  TimerQueue queue;
  TimerSet timers(queue, [](Timer, Instant) {});
  timers.arm(Timer::retransmit, t0 + 1s);
  timers.arm(Timer::keepalive, t0 + 2s);
  timers.arm(Timer::fin_wait_2, t0 + 3s);
  timers.cancel_all();
  CHECK(queue.size() == 0);
  CHECK_FALSE(timers.armed(Timer::keepalive));
}
