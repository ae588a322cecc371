// epoll registrations of tapir sockets, under cookies the kernel hands back.
#include "preload/epoll_registry.hpp"

#include <sys/random.h>

#include <cerrno>
#include <vector>

#include "preload/process_stack.hpp"
#include "preload/real_calls.hpp"
#include "stack/stack.hpp"

namespace tapir::preload {

namespace {

// What a registration passes through to the kernel's: how it triggers, not what it waits for
// (the eventfd is always watched for EPOLLIN).
constexpr std::uint32_t kModes = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;

epoll_event kernel_event(std::uint32_t events, std::uint64_t cookie) {
  epoll_event e{};
  e.events = EPOLLIN | (events & kModes);
  e.data.u64 = cookie;
  return e;
}

// Under the Host lock: the mirror follows a registration's interest.
void watch(int tapir_fd, std::uint32_t events) {
  runtime::Host* host = process_stack().started();
  if (!host) return;
  host->with_stack([&](Stack& stack) {
    process_stack().mirror().watch(stack.sockets(), tapir_fd, static_cast<short>(events));
  });
}

void unwatch(int tapir_fd, std::uint32_t events) {
  runtime::Host* host = process_stack().started();
  if (!host) return;
  host->with_stack(
      [&](Stack&) { process_stack().mirror().unwatch(tapir_fd, static_cast<short>(events)); });
}

}  // namespace

// The events a poll can ask of a socket (EPOLLIN ... EPOLLRDHUP have poll(2)'s values).
std::uint32_t EpollRegistry::wanted(std::uint32_t events) {
  return events & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM |
                   EPOLLWRBAND | EPOLLRDHUP);
}

std::uint64_t EpollRegistry::next_cookie() {
  if (tag_ == 0) {
    // A random tag makes a clash with data a program gives its kernel descriptors (a pointer,
    // a small number) about as likely as guessing 32 random bits.
    std::uint32_t random = 0;
    while (random == 0) {
      if (::getrandom(&random, sizeof random, 0) != sizeof random) random = 0x74617072;  // "tapr"
    }
    tag_ = std::uint64_t{random} << 32;
  }
  if (++serial_ == 0) ++serial_;
  return tag_ | serial_;
}

void EpollRegistry::erase(std::unordered_map<std::uint64_t, Registration>::iterator it) {
  by_set_.erase({it->second.epfd, it->second.fd});
  by_cookie_.erase(it);
  count_.fetch_sub(1, std::memory_order_release);
}

int EpollRegistry::control(int epfd, int op, int fd, int tapir_fd, epoll_event* event) {
  if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && !event) {
    errno = EFAULT;
    return -1;
  }
  std::unique_lock lock(mutex_);
  const auto key = std::make_pair(epfd, fd);
  const auto found = by_set_.find(key);
  switch (op) {
    case EPOLL_CTL_ADD: {
      if (found != by_set_.end()) {
        errno = EEXIST;
        return -1;
      }
      const std::uint64_t cookie = next_cookie();
      epoll_event e = kernel_event(event->events, cookie);
      if (real().epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) != 0) return -1;
      by_cookie_[cookie] = Registration{epfd, fd, tapir_fd, event->events, event->data};
      by_set_[key] = cookie;
      count_.fetch_add(1, std::memory_order_release);
      lock.unlock();
      watch(tapir_fd, wanted(event->events));
      return 0;
    }
    case EPOLL_CTL_MOD: {
      if (found == by_set_.end()) {
        errno = ENOENT;
        return -1;
      }
      epoll_event e = kernel_event(event->events, found->second);
      if (real().epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e) != 0) return -1;
      Registration& r = by_cookie_[found->second];
      const std::uint32_t before = r.events;
      r.events = event->events;
      r.data = event->data;
      lock.unlock();
      watch(tapir_fd, wanted(event->events));
      unwatch(tapir_fd, wanted(before));
      return 0;
    }
    case EPOLL_CTL_DEL: {
      if (found == by_set_.end()) {
        // The kernel's answer for a bad epfd (EBADF, EINVAL) comes before ENOENT.
        epoll_event unused{};
        if (real().epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &unused) != 0 && errno != ENOENT) return -1;
        errno = ENOENT;
        return -1;
      }
      epoll_event unused{};
      if (real().epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &unused) != 0 && errno != ENOENT) return -1;
      const std::uint32_t events = by_cookie_[found->second].events;
      erase(by_cookie_.find(found->second));
      lock.unlock();
      unwatch(tapir_fd, wanted(events));
      return 0;
    }
    default:
      errno = EINVAL;
      return -1;
  }
}

int EpollRegistry::translate(int epfd, epoll_event* events, int count) {
  struct Hit {
    int index;
    const Registration* registration;
    std::uint64_t cookie;
  };
  std::lock_guard lock(mutex_);
  std::vector<Hit> hits;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t cookie = events[i].data.u64;
    if ((cookie & 0xffffffff00000000ULL) != tag_ || tag_ == 0) continue;
    const auto it = by_cookie_.find(cookie);
    if (it == by_cookie_.end() || it->second.epfd != epfd) {
      hits.push_back(Hit{i, nullptr, cookie});  // gone meanwhile: nothing to report
      continue;
    }
    hits.push_back(Hit{i, &it->second, cookie});
  }
  if (hits.empty()) return count;

  std::vector<std::uint32_t> revents(hits.size(), 0);
  if (runtime::Host* host = process_stack().started()) {
    host->with_stack([&](Stack& stack) {
      for (std::size_t h = 0; h < hits.size(); ++h) {
        const Registration* r = hits[h].registration;
        if (!r) continue;
        const short ready =
            stack.sockets().poll_events(r->tapir_fd, static_cast<short>(wanted(r->events)));
        revents[h] = (ready & POLLNVAL) ? 0U : static_cast<std::uint16_t>(ready);
      }
    });
  }
  std::vector<bool> drop(static_cast<std::size_t>(count), false);
  for (std::size_t h = 0; h < hits.size(); ++h) {
    epoll_event& e = events[hits[h].index];
    const Registration* r = hits[h].registration;
    if (!r || revents[h] == 0) {
      drop[static_cast<std::size_t>(hits[h].index)] = true;
      // The kernel disarmed a one-shot registration for a wake-up we do not report: arm it again.
      if (r && (r->events & EPOLLONESHOT)) {
        epoll_event again = kernel_event(r->events, hits[h].cookie);
        real().epoll_ctl(epfd, EPOLL_CTL_MOD, r->fd, &again);
      }
      continue;
    }
    e.events = revents[h];
    e.data = r->data;
  }
  int kept = 0;
  for (int i = 0; i < count; ++i) {
    if (!drop[static_cast<std::size_t>(i)]) events[kept++] = events[i];
  }
  return kept;
}

void EpollRegistry::forget_socket(int tapir_fd) {
  if (!any()) return;
  std::vector<std::uint32_t> gone;
  {
    std::lock_guard lock(mutex_);
    for (auto it = by_cookie_.begin(); it != by_cookie_.end();) {
      auto next = std::next(it);
      if (it->second.tapir_fd == tapir_fd) {
        gone.push_back(it->second.events);
        erase(it);
      }
      it = next;
    }
  }
  for (std::uint32_t events : gone) unwatch(tapir_fd, wanted(events));
}

void EpollRegistry::forget_set(int epfd) {
  if (!any()) return;
  std::vector<std::pair<int, std::uint32_t>> gone;
  {
    std::lock_guard lock(mutex_);
    for (auto it = by_cookie_.begin(); it != by_cookie_.end();) {
      auto next = std::next(it);
      if (it->second.epfd == epfd) {
        gone.emplace_back(it->second.tapir_fd, it->second.events);
        erase(it);
      }
      it = next;
    }
  }
  for (const auto& [tapir_fd, events] : gone) unwatch(tapir_fd, wanted(events));
}

EpollRegistry& epoll_registry() {
  static EpollRegistry* registry = new EpollRegistry;  // never destroyed
  return *registry;
}

}  // namespace tapir::preload
