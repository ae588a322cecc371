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

}  // namespace tapir
