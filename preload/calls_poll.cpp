// poll, ppoll, select and pselect over any mixture of tapir and kernel descriptors.
#include <sys/select.h>

#include <cerrno>
#include <vector>

#include "preload/fd_table.hpp"
#include "preload/mixed_poll.hpp"
#include "preload/real_calls.hpp"

using namespace tapir::preload;

namespace {

// select(2)'s sets as poll(2) entries, as Linux's do_select reads them: the read set is
// POLLIN (ready also on POLLHUP and POLLERR), the write set POLLOUT (and POLLERR), the
// exception set POLLPRI.
constexpr short kReadReady = POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
constexpr short kWriteReady = POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
constexpr short kExceptReady = POLLPRI;

bool set_has(const fd_set* set, int fd) {
  return set && FD_ISSET(fd, set);
}

bool any_tapir_in(int nfds, const fd_set* r, const fd_set* w, const fd_set* e) {
  if (!fd_table().any()) return false;
  for (int fd = 0; fd < nfds; ++fd) {
    if ((set_has(r, fd) || set_has(w, fd) || set_has(e, fd)) && fd_table().lookup(fd) >= 0) {
      return true;
    }
  }
  return false;
}

// select over mixed descriptors, through mixed_poll; `timeout` (select's, may be null) gets
// what is left, as Linux writes it back.
int mixed_select(int nfds, fd_set* r, fd_set* w, fd_set* e, const Deadline& deadline,
                 const sigset_t* sigmask) {
  if (nfds < 0 || nfds > FD_SETSIZE) {
    errno = EINVAL;
    return -1;
  }
  std::vector<pollfd> fds;
  for (int fd = 0; fd < nfds; ++fd) {
    short events = 0;
    if (set_has(r, fd)) events |= POLLIN;
    if (set_has(w, fd)) events |= POLLOUT;
    if (set_has(e, fd)) events |= POLLPRI;
    if (events != 0) fds.push_back(pollfd{fd, events, 0});
  }
  const int n = mixed_poll(fds.data(), fds.size(), deadline, sigmask);
  if (n < 0) return -1;
  for (const pollfd& p : fds) {
    if (p.revents & POLLNVAL) {
      errno = EBADF;  // select(2): a descriptor in a set is not open
      return -1;
    }
  }
  if (r) FD_ZERO(r);
  if (w) FD_ZERO(w);
  if (e) FD_ZERO(e);
  int count = 0;
  for (const pollfd& p : fds) {
    if ((p.events & POLLIN) && (p.revents & kReadReady)) {
      FD_SET(p.fd, r);
      ++count;
    }
    if ((p.events & POLLOUT) && (p.revents & kWriteReady)) {
      FD_SET(p.fd, w);
      ++count;
    }
    if ((p.events & POLLPRI) && (p.revents & kExceptReady)) {
      FD_SET(p.fd, e);
      ++count;
    }
  }
  return count;
}

}  // namespace

// The C library's report of a _FORTIFY_SOURCE check that failed ("buffer overflow detected").
extern "C" [[noreturn]] void __chk_fail();

// glibc declares poll's and ppoll's array write-only (__attr_access), but poll reads the
// events in it: GCC's warning about reading it is about the declaration, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

extern "C" {

int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  if (!any_tapir(fds, count)) return real().poll(fds, count, timeout_ms);
  return mixed_poll(fds, count, deadline_after_ms(timeout_ms), nullptr);
}

int ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* sigmask) {
  if (!any_tapir(fds, count)) return real().ppoll(fds, count, timeout, sigmask);
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)) {
    errno = EINVAL;
    return -1;
  }
  return mixed_poll(fds, count, deadline_after(timeout), sigmask);
}

int __poll_chk(pollfd* fds, nfds_t count, int timeout_ms, size_t fds_len) {
  if (fds_len / sizeof(pollfd) < count) __chk_fail();
  return poll(fds, count, timeout_ms);
}

int __ppoll_chk(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* sigmask,
                size_t fds_len) {
  if (fds_len / sizeof(pollfd) < count) __chk_fail();
  return ppoll(fds, count, timeout, sigmask);
}

int select(int nfds, fd_set* r, fd_set* w, fd_set* e, timeval* timeout) {
  if (!any_tapir_in(nfds, r, w, e)) return real().select(nfds, r, w, e, timeout);
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_usec < 0)) {
    errno = EINVAL;
    return -1;
  }
  Deadline deadline;
  if (timeout) {
    deadline = Clock::now() + std::chrono::seconds(timeout->tv_sec) +
               std::chrono::microseconds(timeout->tv_usec);
  }
  const int n = mixed_select(nfds, r, w, e, deadline, nullptr);
  if (timeout) {
    // Linux writes back the time left (select(2), NOTES).
    timespec left{};
    time_left(deadline, left);
    timeout->tv_sec = left.tv_sec;
    timeout->tv_usec = left.tv_nsec / 1000;
  }
  return n;
}

int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* timeout,
            const sigset_t* sigmask) {
  if (!any_tapir_in(nfds, r, w, e)) return real().pselect(nfds, r, w, e, timeout, sigmask);
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)) {
    errno = EINVAL;
    return -1;
  }
  return mixed_select(nfds, r, w, e, deadline_after(timeout), sigmask);
}

}  // extern "C"
