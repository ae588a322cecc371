// Context: what every layer of one stack shares (the clock, timers, counters, trace, random
// source), handed to each layer instead of the whole stack, so none can reach another by it.
#pragma once

#include <cstdint>
#include <random>

#include "stack/core/stats.hpp"
#include "stack/core/time.hpp"
#include "stack/core/timer.hpp"
#include "stack/core/trace.hpp"

namespace tapir {

class Context {
 public:
  explicit Context(std::uint64_t seed) : random_(seed) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // The time of the call being served (receive, advance, a socket call). It never goes back:
  // a caller's clock that does is held at the latest time seen.
  Instant now() const { return now_; }
  void set_now(Instant now) {
    if (now > now_) now_ = now;
  }

  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }
  TimerQueue& timers() { return timers_; }
  const TimerQueue& timers() const { return timers_; }
  Trace& tracer() { return trace_; }
  std::mt19937_64& random() { return random_; }

  // Emits a trace line for `layer` if it is switched on; `make` builds the text only then.
  template <typename Make>
  void trace(Layer layer, Make&& make) {
    if (trace_.on(layer)) trace_.line(now_, layer, make());
  }

 private:
  Instant now_;
  Stats stats_;
  Trace trace_;
  TimerQueue timers_;
  std::mt19937_64 random_;
};

}  // namespace tapir
