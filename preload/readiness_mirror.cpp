// The readiness mirror: an eventfd's counter is 1 (readable) while its tapir socket has an
// event some waiter wants, 0 otherwise.
#include "preload/readiness_mirror.hpp"

#include <cstdint>

#include "preload/real_calls.hpp"
#include "stack/socket/api.hpp"

namespace tapir::preload {

namespace {

constexpr short kAlways = POLLERR | POLLHUP;

// eventfd(2): a write adds to the counter and makes the descriptor readable; a read returns
// the counter and sets it to 0. The descriptor is non-blocking, so neither ever waits.
void raise_signal(int fd) {
  const std::uint64_t one = 1;
  (void)!real().write(fd, &one, sizeof one);
}

void lower_signal(int fd) {
  std::uint64_t count = 0;
  (void)!real().read(fd, &count, sizeof count);
}

}  // namespace

ReadinessMirror::Entry* ReadinessMirror::find(int tapir_fd) {
  if (tapir_fd < 0 || static_cast<std::size_t>(tapir_fd) >= entries_.size()) return nullptr;
  Entry& e = entries_[static_cast<std::size_t>(tapir_fd)];
  return e.signal_fd >= 0 ? &e : nullptr;
}

void ReadinessMirror::add(int tapir_fd, int signal_fd) {
  if (tapir_fd < 0) return;
  if (static_cast<std::size_t>(tapir_fd) >= entries_.size()) {
    entries_.resize(static_cast<std::size_t>(tapir_fd) + 1);
  }
  Entry& e = entries_[static_cast<std::size_t>(tapir_fd)];
  if (e.interest != 0) --watched_;
  e = Entry{};
  e.signal_fd = signal_fd;
}

int ReadinessMirror::remove(int tapir_fd) {
  Entry* e = find(tapir_fd);
  if (!e) return -1;
  const int fd = e->signal_fd;
  if (e->interest != 0) --watched_;
  *e = Entry{};
  return fd;
}

void ReadinessMirror::watch(sock::Api& api, int tapir_fd, short events) {
  Entry* e = find(tapir_fd);
  if (!e) return;
  const auto bits = static_cast<std::uint16_t>(events | kAlways);
  const short before = e->interest;
  for (int b = 0; b < 16; ++b) {
    if (bits & (1U << b)) ++e->wanted[static_cast<std::size_t>(b)];
  }
  e->interest = static_cast<short>(e->interest | bits);
  if (before == 0) ++watched_;
  refresh(api, tapir_fd, *e);
}

void ReadinessMirror::unwatch(int tapir_fd, short events) {
  Entry* e = find(tapir_fd);
  if (!e) return;
  const auto bits = static_cast<std::uint16_t>(events | kAlways);
  const short before = e->interest;
  int interest = 0;
  for (int b = 0; b < 16; ++b) {
    std::uint16_t& n = e->wanted[static_cast<std::size_t>(b)];
    if ((bits & (1U << b)) && n > 0) --n;
    if (n > 0) interest |= 1 << b;
  }
  e->interest = static_cast<short>(interest);
  // Nobody waits: the eventfd keeps its level until someone does (watch() refreshes it).
  if (before != 0 && e->interest == 0) --watched_;
}

void ReadinessMirror::refresh(sock::Api& api) {
  if (watched_ == 0) return;
  for (std::size_t fd = 0; fd < entries_.size(); ++fd) {
    Entry& e = entries_[fd];
    if (e.signal_fd >= 0 && e.interest != 0) refresh(api, static_cast<int>(fd), e);
  }
}

void ReadinessMirror::refresh(sock::Api& api, int tapir_fd, Entry& e) {
  const short now = api.poll_events(tapir_fd, e.interest);
  // An event that appears is an edge: raise the signal even if it is up already, so that an
  // EPOLLET waiter hears of it (each eventfd write wakes edge-triggered epoll again), as
  // Linux's sockets wake it on each change.
  const bool rising = (now & ~e.last) != 0;
  e.last = now;
  if (now != 0 && (!e.signalled || rising)) {
    raise_signal(e.signal_fd);
    e.signalled = true;
  } else if (now == 0 && e.signalled) {
    lower_signal(e.signal_fd);
    e.signalled = false;
  }
}

}  // namespace tapir::preload
