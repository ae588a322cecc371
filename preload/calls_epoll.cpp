// epoll_ctl and epoll_wait with tapir sockets in kernel epoll sets. epoll_create and
// epoll_create1 are the kernel's own: an epoll set of tapir sockets is a kernel epoll set.
#include <sys/epoll.h>

#include <cerrno>

#include "preload/epoll_registry.hpp"
#include "preload/fd_table.hpp"
#include "preload/mixed_poll.hpp"
#include "preload/process_stack.hpp"
#include "preload/real_calls.hpp"

using namespace tapir::preload;

namespace {

// epoll_wait until it has something of the program's to report: the kernel's events, ours
// translated (translate() drops the wake-ups tapir has nothing for), or the deadline.
int wait_epoll(int epfd, epoll_event* events, int max, const Deadline& deadline,
               const sigset_t* sigmask, bool with_mask) {
  for (;;) {
    int n = 0;
    if (with_mask) {
      timespec storage{};
      n = real().epoll_pwait2
              ? real().epoll_pwait2(epfd, events, max, time_left(deadline, storage), sigmask)
              : real().epoll_pwait(epfd, events, max, milliseconds_left(deadline), sigmask);
    } else {
      n = real().epoll_wait(epfd, events, max, milliseconds_left(deadline));
    }
    if (n <= 0 || !epoll_registry().any()) return n;
    InsideStack inside;
    n = epoll_registry().translate(epfd, events, n);
    if (n > 0 || passed(deadline)) return n;
  }
}

}  // namespace

extern "C" {

int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  const int tapir_fd = fd_table().lookup(fd);
  if (tapir_fd < 0) return real().epoll_ctl(epfd, op, fd, event);
  InsideStack inside;
  return epoll_registry().control(epfd, op, fd, tapir_fd, event);
}

int epoll_wait(int epfd, epoll_event* events, int max, int timeout_ms) {
  if (!epoll_registry().any()) return real().epoll_wait(epfd, events, max, timeout_ms);
  return wait_epoll(epfd, events, max, deadline_after_ms(timeout_ms), nullptr, false);
}

int epoll_pwait(int epfd, epoll_event* events, int max, int timeout_ms, const sigset_t* sigmask) {
  if (!epoll_registry().any()) return real().epoll_pwait(epfd, events, max, timeout_ms, sigmask);
  return wait_epoll(epfd, events, max, deadline_after_ms(timeout_ms), sigmask, true);
}

int epoll_pwait2(int epfd, epoll_event* events, int max, const timespec* timeout,
                 const sigset_t* sigmask) {
  if (!real().epoll_pwait2) {
    errno = ENOSYS;
    return -1;
  }
  if (!epoll_registry().any()) return real().epoll_pwait2(epfd, events, max, timeout, sigmask);
  return wait_epoll(epfd, events, max, deadline_after(timeout), sigmask, true);
}

}  // extern "C"
