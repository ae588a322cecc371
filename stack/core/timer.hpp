// The one timer facility of a stack: every timeout of every layer is scheduled here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "stack/core/time.hpp"

namespace tapir {

// A handle to a scheduled timer; 0 means "none".
using TimerId = std::uint64_t;

// An ordered set of deadlines (a balanced tree: O(log n) schedule, cancel and pop). Callbacks
// run from advance() in deadline order; a callback may schedule or cancel other timers.
class TimerQueue {
 public:
  using Callback = std::function<void(Instant now)>;

  TimerId schedule(Instant deadline, Callback callback);
  // Cancelling an expired or unknown id is a no-op, so owners may cancel unconditionally.
  void cancel(TimerId id);
  // Cancels `id` (if any) and schedules anew; returns the new id.
  TimerId reschedule(TimerId id, Instant deadline, Callback callback);
  bool pending(TimerId id) const { return index_.contains(id); }

  // Runs every callback whose deadline is at or before `now`.
  void advance(Instant now);
  std::optional<Instant> next_deadline() const;
  std::size_t size() const { return index_.size(); }

 private:
  using Key = std::pair<Instant, TimerId>;  // id breaks ties: same deadline runs in FIFO order
  std::map<Key, Callback> queue_;
  std::unordered_map<TimerId, Instant> index_;
  TimerId next_id_ = 1;
};

// A timer whose deadline moves often (TCP's retransmission timer is restarted on every ACK,
// RFC 6298 §5.3) at little cost: the queue entry is only remade when the deadline moves
// earlier, and an entry that fires before the real deadline re-arms itself for it.
class LazyTimer {
 public:
  void arm(TimerQueue& timers, Instant when, std::function<void(Instant)> fire);
  void stop() { deadline_.reset(); }
  void cancel(TimerQueue& timers);
  bool armed() const { return deadline_.has_value(); }
  std::optional<Instant> deadline() const { return deadline_; }

 private:
  void expire(TimerQueue& timers, Instant now);

  TimerId id_ = 0;
  Instant queued_for_;
  std::optional<Instant> deadline_;
  std::function<void(Instant)> fire_;
};

}  // namespace tapir
