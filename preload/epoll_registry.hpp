// Which tapir sockets are in which epoll sets. A tapir socket's eventfd joins the program's
// (kernel) epoll set for EPOLLIN, under a cookie of ours in place of the program's data, so
// epoll sets can mix tapir and kernel descriptors, nest, and be polled themselves; epoll_wait()
// turns each of our cookies back into the program's data and the events tapir says are there.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace tapir::preload {

class EpollRegistry {
 public:
  // epoll_ctl() for descriptor `fd` of tapir socket `tapir_fd`: errors as Linux's (EEXIST,
  // ENOENT, and the kernel's own for a bad epoll descriptor or flags).
  int control(int epfd, int op, int fd, int tapir_fd, epoll_event* event);

  // After the kernel's epoll_wait() returned `count` events: ours get the program's data and
  // tapir's events for what the registration asked; a registration with nothing to report
  // after all (a spurious wake-up) is dropped, and re-armed if it is EPOLLONESHOT. Returns the
  // number of events left.
  int translate(int epfd, epoll_event* events, int count);

  // The last descriptor of the socket was closed, or the program closed an epoll descriptor:
  // their registrations go (the kernel drops its own when the files go).
  void forget_socket(int tapir_fd);
  void forget_set(int epfd);

  // Whether any tapir socket is in any epoll set (until then epoll_wait() goes straight through).
  bool any() const { return count_.load(std::memory_order_acquire) > 0; }

  // Held across fork() (pthread_atfork), so that the child's copy is never locked by a thread
  // that the child does not have.
  std::mutex& mutex() { return mutex_; }

 private:
  struct Registration {
    int epfd = -1;
    int fd = -1;  // the program's descriptor, as the kernel knows it
    int tapir_fd = -1;
    std::uint32_t events = 0;  // as the program gave them
    epoll_data_t data{};
  };

  static std::uint32_t wanted(std::uint32_t events);
  std::uint64_t next_cookie();
  void erase(std::unordered_map<std::uint64_t, Registration>::iterator it);

  std::mutex mutex_;
  std::unordered_map<std::uint64_t, Registration> by_cookie_;
  std::map<std::pair<int, int>, std::uint64_t> by_set_;  // (epfd, fd) -> cookie
  std::uint64_t tag_ = 0;                                // high 32 bits of our cookies
  std::uint32_t serial_ = 0;
  std::atomic<int> count_{0};
};

// The process's registry (never destroyed).
EpollRegistry& epoll_registry();

}  // namespace tapir::preload
