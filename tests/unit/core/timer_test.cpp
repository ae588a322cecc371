// Tests of TimerQueue, the one timer facility of a stack.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "stack/core/timer.hpp"

using namespace tapir;

namespace {

Instant at(std::int64_t ms) {
  return Instant::from_micros(ms * 1000);
}

}  // namespace

TEST_CASE("timers fire in deadline order", "[timer]") {
  TimerQueue timers;
  std::vector<int> fired;
  timers.schedule(at(30), [&](Instant) { fired.push_back(30); });
  timers.schedule(at(10), [&](Instant) { fired.push_back(10); });
  timers.schedule(at(20), [&](Instant) { fired.push_back(20); });
  timers.advance(at(100));
  CHECK(fired == std::vector<int>{10, 20, 30});
  CHECK(timers.size() == 0);
}

TEST_CASE("timers with the same deadline fire in the order they were scheduled", "[timer]") {
  TimerQueue timers;
  std::vector<int> fired;
  for (int i = 0; i < 5; ++i) timers.schedule(at(10), [&fired, i](Instant) { fired.push_back(i); });
  timers.advance(at(10));
  CHECK(fired == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("advance runs the timers due at or before now and no others", "[timer]") {
  TimerQueue timers;
  std::vector<int> fired;
  timers.schedule(at(10), [&](Instant) { fired.push_back(10); });
  timers.schedule(at(20), [&](Instant) { fired.push_back(20); });
  timers.advance(at(9));
  CHECK(fired.empty());
  timers.advance(at(10));  // a deadline equal to now is due
  CHECK(fired == std::vector<int>{10});
  timers.advance(at(19) + Duration(999));
  CHECK(fired == std::vector<int>{10});
  timers.advance(at(20));
  CHECK(fired == std::vector<int>{10, 20});
}

TEST_CASE("a callback is told the time advance was called with", "[timer]") {
  TimerQueue timers;
  Instant seen;
  timers.schedule(at(10), [&](Instant now) { seen = now; });
  timers.advance(at(25));
  CHECK(seen == at(25));
}

TEST_CASE("a cancelled timer never fires, and cancelling is always safe", "[timer]") {
  TimerQueue timers;
  std::vector<int> fired;
  const TimerId a = timers.schedule(at(10), [&](Instant) { fired.push_back(1); });
  const TimerId b = timers.schedule(at(10), [&](Instant) { fired.push_back(2); });
  CHECK(a != 0);
  CHECK(a != b);
  CHECK(timers.pending(a));
  timers.cancel(a);
  CHECK_FALSE(timers.pending(a));
  CHECK(timers.size() == 1);
  timers.cancel(a);      // twice
  timers.cancel(0);      // "none"
  timers.cancel(12345);  // never issued
  timers.advance(at(10));
  CHECK(fired == std::vector<int>{2});
  timers.cancel(b);  // already expired
  CHECK(timers.size() == 0);
}

TEST_CASE("reschedule replaces the deadline and the callback", "[timer]") {
  TimerQueue timers;
  std::vector<std::string> fired;
  const TimerId old_id = timers.schedule(at(10), [&](Instant) { fired.push_back("old"); });
  const TimerId new_id =
      timers.reschedule(old_id, at(50), [&](Instant) { fired.push_back("new"); });
  CHECK(new_id != old_id);
  CHECK_FALSE(timers.pending(old_id));
  CHECK(timers.pending(new_id));
  CHECK(timers.size() == 1);
  timers.advance(at(40));
  CHECK(fired.empty());
  timers.advance(at(50));
  CHECK(fired == std::vector<std::string>{"new"});
  // Rescheduling an expired id simply schedules.
  const TimerId again =
      timers.reschedule(new_id, at(60), [&](Instant) { fired.push_back("again"); });
  CHECK(timers.pending(again));
}

TEST_CASE("a callback may schedule timers, and those already due run in the same advance",
          "[timer]") {
  TimerQueue timers;
  std::vector<int> fired;
  timers.schedule(at(10), [&](Instant now) {
    fired.push_back(10);
    timers.schedule(now, [&](Instant) { fired.push_back(11); });     // due at once
    timers.schedule(at(15), [&](Instant) { fired.push_back(15); });  // due before now
    timers.schedule(at(99), [&](Instant) { fired.push_back(99); });  // later
  });
  timers.schedule(at(20), [&](Instant) { fired.push_back(20); });
  timers.advance(at(20));
  // The one scheduled at `now` (20) runs after the timer already waiting at 20 (FIFO on ties).
  CHECK(fired == std::vector<int>{10, 15, 20, 11});
  CHECK(timers.size() == 1);
  CHECK(timers.next_deadline() == at(99));
}

TEST_CASE("a callback may cancel another timer due in the same advance", "[timer]") {
  TimerQueue timers;
  std::vector<int> fired;
  TimerId second = 0;
  timers.schedule(at(10), [&](Instant) {
    fired.push_back(1);
    timers.cancel(second);
  });
  second = timers.schedule(at(10), [&](Instant) { fired.push_back(2); });
  timers.advance(at(10));
  CHECK(fired == std::vector<int>{1});
  CHECK(timers.size() == 0);
}

TEST_CASE("a callback may reschedule itself (a periodic timer)", "[timer]") {
  TimerQueue timers;
  int ticks = 0;
  std::function<void(Instant)> tick = [&](Instant now) {
    ++ticks;
    timers.schedule(now + 10ms, tick);
  };
  timers.schedule(at(10), tick);
  timers.advance(at(10));
  timers.advance(at(20));
  timers.advance(at(30));
  CHECK(ticks == 3);
  CHECK(timers.next_deadline() == at(40));
}

TEST_CASE("next_deadline is the earliest pending deadline, or none", "[timer]") {
  TimerQueue timers;
  CHECK_FALSE(timers.next_deadline().has_value());
  const TimerId late = timers.schedule(at(50), [](Instant) {});
  CHECK(timers.next_deadline() == at(50));
  const TimerId early = timers.schedule(at(20), [](Instant) {});
  CHECK(timers.next_deadline() == at(20));
  timers.cancel(early);
  CHECK(timers.next_deadline() == at(50));
  timers.cancel(late);
  CHECK_FALSE(timers.next_deadline().has_value());
}
