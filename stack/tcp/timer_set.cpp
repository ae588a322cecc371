// TimerSet: arming, stopping and firing a connection's timers.
#include "stack/tcp/timer_set.hpp"

namespace tapir::tcp {

void TimerSet::arm(Timer timer, Instant when) {
  if (lazy(timer)) {
    LazyTimer& t = timer == Timer::retransmit ? retransmit_ : keepalive_;
    t.arm(queue_, when, [this, timer](Instant now) { fire_(timer, now); });
    return;
  }
  const std::size_t i = index(timer);
  deadlines_[i] = when;
  ids_[i] = queue_.reschedule(ids_[i], when, [this, timer, i](Instant now) {
    ids_[i] = 0;
    fire_(timer, now);
  });
}

void TimerSet::stop(Timer timer) {
  if (lazy(timer)) {
    (timer == Timer::retransmit ? retransmit_ : keepalive_).stop();
    return;
  }
  const std::size_t i = index(timer);
  queue_.cancel(ids_[i]);
  ids_[i] = 0;
}

void TimerSet::cancel(Timer timer) {
  if (lazy(timer)) {
    (timer == Timer::retransmit ? retransmit_ : keepalive_).cancel(queue_);
    return;
  }
  stop(timer);
}

bool TimerSet::armed(Timer timer) const {
  if (lazy(timer)) return (timer == Timer::retransmit ? retransmit_ : keepalive_).armed();
  return ids_[index(timer)] != 0;
}

std::optional<Instant> TimerSet::deadline(Timer timer) const {
  if (lazy(timer)) return (timer == Timer::retransmit ? retransmit_ : keepalive_).deadline();
  if (!armed(timer)) return std::nullopt;
  return deadlines_[index(timer)];
}

void TimerSet::cancel_all() {
  retransmit_.cancel(queue_);
  keepalive_.cancel(queue_);
  for (TimerId& id : ids_) {
    queue_.cancel(id);
    id = 0;
  }
}

}  // namespace tapir::tcp
