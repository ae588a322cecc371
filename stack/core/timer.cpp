// The one timer facility of a stack.
#include "stack/core/timer.hpp"

namespace tapir {

TimerId TimerQueue::schedule(Instant deadline, Callback callback) {
  const TimerId id = next_id_++;
  queue_.emplace(Key{deadline, id}, std::move(callback));
  index_.emplace(id, deadline);
  return id;
}

void TimerQueue::cancel(TimerId id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  queue_.erase(Key{it->second, id});
  index_.erase(it);
}

TimerId TimerQueue::reschedule(TimerId id, Instant deadline, Callback callback) {
  cancel(id);
  return schedule(deadline, std::move(callback));
}

void TimerQueue::advance(Instant now) {
  while (!queue_.empty() && queue_.begin()->first.first <= now) {
    auto node = queue_.extract(queue_.begin());
    index_.erase(node.key().second);
    node.mapped()(now);
  }
}

std::optional<Instant> TimerQueue::next_deadline() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first.first;
}

void LazyTimer::arm(TimerQueue& timers, Instant when, std::function<void(Instant)> fire) {
  fire_ = std::move(fire);
  deadline_ = when;
  if (id_ != 0 && timers.pending(id_) && queued_for_ <= when) return;  // fires early, re-arms
  timers.cancel(id_);
  queued_for_ = when;
  id_ = timers.schedule(when, [this, &timers](Instant now) { expire(timers, now); });
}
void LazyTimer::cancel(TimerQueue& timers) {
  timers.cancel(id_);
  id_ = 0;
  deadline_.reset();
}
void LazyTimer::expire(TimerQueue& timers, Instant now) {
  id_ = 0;
  if (!deadline_) return;  // stopped since
  if (*deadline_ > now) {
    queued_for_ = *deadline_;
    id_ = timers.schedule(*deadline_, [this, &timers](Instant t) { expire(timers, t); });
    return;
  }
  deadline_.reset();
  fire_(now);
}

}  // namespace tapir
