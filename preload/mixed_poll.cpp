// poll over tapir and kernel descriptors at once.
#include "preload/mixed_poll.hpp"

#include <cerrno>
#include <vector>

#include "preload/fd_table.hpp"
#include "preload/process_stack.hpp"
#include "preload/real_calls.hpp"
#include "stack/stack.hpp"

namespace tapir::preload {

Deadline deadline_after_ms(int timeout_ms) {
  if (timeout_ms < 0) return std::nullopt;
  return Clock::now() + std::chrono::milliseconds(timeout_ms);
}

Deadline deadline_after(const timespec* timeout) {
  if (!timeout) return std::nullopt;
  return Clock::now() + std::chrono::seconds(timeout->tv_sec) +
         std::chrono::nanoseconds(timeout->tv_nsec);
}

const timespec* time_left(const Deadline& deadline, timespec& storage) {
  if (!deadline) return nullptr;
  const auto left = std::max(Clock::duration::zero(), *deadline - Clock::now());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  storage.tv_sec = static_cast<time_t>(ns / 1000000000);
  storage.tv_nsec = static_cast<long>(ns % 1000000000);
  return &storage;
}

int milliseconds_left(const Deadline& deadline) {
  if (!deadline) return -1;
  const auto left = std::max(Clock::duration::zero(), *deadline - Clock::now());
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

bool passed(const Deadline& deadline) {
  return deadline && Clock::now() >= *deadline;
}

bool any_tapir(const pollfd* fds, nfds_t count) {
  if (!fds || !fd_table().any()) return false;
  for (nfds_t i = 0; i < count; ++i) {
    if (fd_table().lookup(fds[i].fd) >= 0) return true;
  }
  return false;
}

int mixed_poll(pollfd* fds, nfds_t count, const Deadline& deadline, const sigset_t* sigmask) {
  runtime::Host* host = process_stack().started();
  timespec storage{};
  if (!host || !any_tapir(fds, count)) {
    return real().ppoll(fds, count, time_left(deadline, storage), sigmask);
  }
  InsideStack inside;
  // The kernel's copy: each tapir entry waits for its eventfd to be raised.
  std::vector<pollfd> kernel(fds, fds + count);
  std::vector<int> tapir_fds(count, kKernel);
  for (nfds_t i = 0; i < count; ++i) {
    tapir_fds[i] = fd_table().lookup(fds[i].fd);
    if (tapir_fds[i] >= 0) kernel[i].events = POLLIN;
  }
  host->with_stack([&](Stack& stack) {
    for (nfds_t i = 0; i < count; ++i) {
      if (tapir_fds[i] >= 0) {
        process_stack().mirror().watch(stack.sockets(), tapir_fds[i], fds[i].events);
      }
    }
  });
  auto unwatch_all = [&] {
    for (nfds_t i = 0; i < count; ++i) {
      if (tapir_fds[i] >= 0) process_stack().mirror().unwatch(tapir_fds[i], fds[i].events);
    }
  };

  for (;;) {
    const int n = real().ppoll(kernel.data(), count, time_left(deadline, storage), sigmask);
    if (n < 0) {
      const int error = errno;
      host->with_stack([&](Stack&) { unwatch_all(); });
      errno = error;
      return -1;
    }
    int ready = 0;
    const bool last = passed(deadline);
    host->with_stack([&](Stack& stack) {
      for (nfds_t i = 0; i < count; ++i) {
        if (tapir_fds[i] >= 0 && !(kernel[i].revents & POLLNVAL)) {
          fds[i].revents = stack.sockets().poll_events(tapir_fds[i], fds[i].events);
        } else {
          fds[i].revents = kernel[i].revents;
        }
        if (fds[i].revents != 0) ++ready;
      }
      if (ready > 0 || last) unwatch_all();
    });
    if (ready > 0 || last) return ready;
    // A wake-up with nothing to report (the eventfd was raised for what another waiter asks):
    // wait again for the rest of the time.
  }
}

}  // namespace tapir::preload
