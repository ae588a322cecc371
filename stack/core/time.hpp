// Instant and Duration: the stack's notion of time, always passed in, never read from a clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace tapir {

using Duration = std::chrono::microseconds;
using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;
using std::chrono_literals::operator""us;

// A point on whatever clock the caller drives the stack with (monotonic, or virtual in tests).
class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant from_micros(std::int64_t us) { return Instant{us}; }
  constexpr std::int64_t micros() const { return us_; }

  friend constexpr Instant operator+(Instant a, Duration d) { return Instant{a.us_ + d.count()}; }
  friend constexpr Instant operator-(Instant a, Duration d) { return Instant{a.us_ - d.count()}; }
  friend constexpr Duration operator-(Instant a, Instant b) { return Duration{a.us_ - b.us_}; }
  constexpr Instant& operator+=(Duration d) {
    us_ += d.count();
    return *this;
  }
  friend constexpr auto operator<=>(Instant, Instant) = default;

 private:
  constexpr explicit Instant(std::int64_t us) : us_(us) {}
  std::int64_t us_ = 0;
};

}  // namespace tapir
