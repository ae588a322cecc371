// TimerSet: a connection's timers (RFC 9293 §3.8, RFC 1122 §4.2.3), which are armed and when;
// one callback tells the connection which one fired.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "stack/core/time.hpp"
#include "stack/core/timer.hpp"

namespace tapir::tcp {

enum class Timer : std::uint8_t {
  retransmit,   // RFC 6298 (tcprexmt)
  persist,      // RFC 9293 §3.8.6.1, zero-window probes (tcppersist)
  delayed_ack,  // RFC 1122 §4.2.3.2
  keepalive,    // RFC 1122 §4.2.3.6
  time_wait,    // RFC 9293 §3.6.1, 2·MSL
  fin_wait_2,   // Linux's tcp_fin_timeout, for orphans
  probe,        // RFC 8985 §7, the tail loss probe (PTO)
  reorder,      // RFC 8985 §6.3, RACK's reordering timer
};

class TimerSet {
 public:
  using Fire = std::function<void(Timer timer, Instant now)>;

  TimerSet(TimerQueue& queue, Fire fire) : queue_(queue), fire_(std::move(fire)) {}
  ~TimerSet() { cancel_all(); }
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  // Arms `timer` for `when`, or moves it there if it is armed. The retransmission and
  // keepalive timers move on nearly every segment, so they are lazy (LazyTimer): the queue
  // entry is remade only when the deadline moves earlier.
  void arm(Timer timer, Instant when);
  // Disarms `timer`. A lazy timer keeps its queue entry, which finds nothing to do when it
  // comes (cheap, for the retransmission timer stopped by most ACKs).
  void stop(Timer timer);
  // Disarms `timer` and removes its queue entry.
  void cancel(Timer timer);
  bool armed(Timer timer) const;
  std::optional<Instant> deadline(Timer timer) const;
  // Disarms every timer and removes its queue entry.
  void cancel_all();

 private:
  static bool lazy(Timer t) { return t == Timer::retransmit || t == Timer::keepalive; }
  static std::size_t index(Timer t) { return static_cast<std::size_t>(t); }

  TimerQueue& queue_;
  Fire fire_;
  LazyTimer retransmit_;
  LazyTimer keepalive_;
  // The others: their queue entries (0: not armed) and deadlines.
  std::array<TimerId, 8> ids_{};
  std::array<Instant, 8> deadlines_{};
};

}  // namespace tapir::tcp
