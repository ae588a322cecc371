// The public socket calls (<tapir/socket.hpp>): the stack's non-blocking core under the Host
// lock, -1/errno for its negative errno, and blocking where Linux blocks.
#include <sys/resource.h>

#include <tapir/socket.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <type_traits>
#include <vector>

#include "runtime/host.hpp"
#include "runtime/socket_api.hpp"

namespace tapir {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<runtime::Host*> current{nullptr};

// The Host the calls use, as the runtime sees it (current_host() is its public handle).
runtime::Host* current_runtime() {
  return current.load();
}

// The core's negative errno becomes -1 with errno set, as a system call returns it.
template <typename T>
T posix_result(T result) {
  if (result < 0) {
    errno = static_cast<int>(-result);
    return -1;
  }
  return result;
}

// One non-blocking core call under the current Host's lock. Without a Host there are no
// tapir descriptors, so a descriptor call fails as for an unknown descriptor: EBADF.
template <typename F>
auto call(F&& f) {
  using Result = std::invoke_result_t<F&, sock::Api&>;
  runtime::Host* host = current_runtime();
  if (!host) return posix_result(static_cast<Result>(-EBADF));
  return posix_result(host->with_stack([&](Stack& stack) { return f(stack.sockets()); }));
}

enum class Direction { receive, send };

// When a SO_RCVTIMEO / SO_SNDTIMEO of `timeout` started at `start` runs out: never for zero (as
// Linux) or for one too long for the clock to represent (Linux too treats a timeout beyond its
// range as infinite).
runtime::Host::Deadline deadline_after(Clock::time_point start, Duration timeout) {
  if (timeout.count() <= 0) return std::nullopt;
  const auto room = std::chrono::duration_cast<Duration>(Clock::time_point::max() - start);
  if (timeout >= room) return std::nullopt;
  return start + timeout;
}

// A call that may block: runs f(api) once and, if it would block (-EAGAIN) on a blocking
// socket without MSG_DONTWAIT, waits on the Host until f stops saying -EAGAIN, the socket's
// SO_RCVTIMEO / SO_SNDTIMEO passes (then EAGAIN, as Linux), the descriptor is closed by
// another thread (EBADF), or the Host stops (ENETDOWN).
template <typename F>
auto blocking_call(int fd, int flags, Direction direction, F&& f) {
  using Result = std::invoke_result_t<F&, sock::Api&>;
  runtime::Host* host = current_runtime();
  if (!host) return posix_result(static_cast<Result>(-EBADF));
  const Clock::time_point start = Clock::now();  // Linux's timeouts count from the call

  bool may_block = false;
  runtime::Host::Deadline deadline;
  std::uint64_t closes = 0;
  const Result first = host->with_stack([&](Stack& stack) -> Result {
    sock::Api& api = stack.sockets();
    const Result result = f(api);
    if (result != -EAGAIN || (flags & MSG_DONTWAIT)) return result;
    const sock::Socket* s = api.find(fd);
    if (!s || s->nonblocking) return result;
    // A datagram socket's send says EAGAIN only when no ephemeral port is free, which Linux
    // reports at once rather than wait for (udp_sendmsg's autobind); datagrams need no room
    // in a send buffer here, since they go straight to the interface. Only a stream socket
    // (TCP, when it lands) waits for send-buffer space.
    if (direction == Direction::send && s->type != SOCK_STREAM) return result;
    const Duration timeout = direction == Direction::receive ? s->rcvtimeo : s->sndtimeo;
    deadline = deadline_after(start, timeout);
    closes = host->closes_of(fd);
    may_block = true;
    return result;
  });
  if (!may_block) return posix_result(first);

  return posix_result(host->wait_until(
      [&](Stack& stack) -> Result {
        // Closed by another thread while we slept (and perhaps reused by a new socket).
        if (host->closes_of(fd) != closes) return -EBADF;
        return f(stack.sockets());
      },
      deadline));
}

// Is `fd` a blocking SOCK_STREAM socket, for which send and MSG_WAITALL receive go on until
// every byte is through?
bool blocking_stream(runtime::Host& host, int fd, int flags) {
  if (flags & MSG_DONTWAIT) return false;
  return host.with_stack([&](Stack& stack) {
    const sock::Socket* s = stack.sockets().find(fd);
    return s && s->type == SOCK_STREAM && !s->nonblocking;
  });
}

// A stream send as Linux's: a blocking call returns once all of `len` is queued (or with what
// was queued when an error or SO_SNDTIMEO stops it); datagrams and non-blocking sends go once.
ssize_t send_all(int fd, const std::uint8_t* buf, size_t len, int flags, const sockaddr* addr,
                 socklen_t addr_len) {
  size_t done = 0;
  for (;;) {
    const ssize_t n = blocking_call(fd, flags, Direction::send, [&](sock::Api& api) {
      return api.sendto(fd, buf + done, len - done, flags, addr, addr_len);
    });
    if (n < 0) return done > 0 ? static_cast<ssize_t>(done) : n;
    done += static_cast<size_t>(n);
    if (done >= len) return static_cast<ssize_t>(done);
    runtime::Host* host = current_runtime();
    if (!host || !blocking_stream(*host, fd, flags)) return static_cast<ssize_t>(done);
  }
}

// poll(2) refuses more entries than the process may have descriptors.
bool too_many_for_poll(nfds_t count) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return false;
  return count > limit.rlim_cur;
}

}  // namespace

namespace socket_api {

void host_started(runtime::Host& host) {
  runtime::Host* none = nullptr;
  current.compare_exchange_strong(none, &host);
}

void host_stopped(runtime::Host& host) {
  runtime::Host* self = &host;
  current.compare_exchange_strong(self, nullptr);
}

}  // namespace socket_api

void use_host(Host& host) {
  current.store(&host.runtime());
}

Host* current_host() {
  const runtime::Host* host = current.load();
  return host ? host->owner() : nullptr;
}

int socket(int domain, int type, int protocol) {
  runtime::Host* host = current_runtime();
  if (!host) {
    // No stack to make a socket in (no Host started, or it stopped).
    errno = ENETDOWN;
    return -1;
  }
  return posix_result(host->with_stack(
      [&](Stack& stack) { return stack.sockets().socket(domain, type, protocol); }));
}

int bind(int fd, const sockaddr* addr, socklen_t len) {
  return call([&](sock::Api& api) { return api.bind(fd, addr, len); });
}

// A UDP or raw connect only records the peer; a TCP connect on a blocking socket waits for
// the handshake (until SO_SNDTIMEO, then EINPROGRESS, as Linux).
int connect(int fd, const sockaddr* addr, socklen_t len) {
  runtime::Host* host = current_runtime();
  if (!host) return posix_result(-EBADF);
  const Clock::time_point start = Clock::now();
  bool wait = false;
  runtime::Host::Deadline deadline;
  std::uint64_t closes = 0;
  const int first = host->with_stack([&](Stack& stack) {
    sock::Api& api = stack.sockets();
    const int result = api.connect(fd, addr, len);
    if (result != -EINPROGRESS) return result;
    const sock::Socket* s = api.find(fd);
    if (!s || s->nonblocking) return result;
    deadline = deadline_after(start, s->sndtimeo);
    closes = host->closes_of(fd);
    wait = true;
    return result;
  });
  if (!wait) return posix_result(first);
  int result = host->wait_until(
      [&](Stack& stack) {
        if (host->closes_of(fd) != closes) return -EBADF;
        return stack.sockets().connect_status(fd);
      },
      deadline);
  if (result == -EAGAIN) result = -EINPROGRESS;
  return posix_result(result);
}

int listen(int fd, int backlog) {
  return call([&](sock::Api& api) { return api.listen(fd, backlog); });
}

int accept(int fd, sockaddr* addr, socklen_t* len) {
  return blocking_call(fd, 0, Direction::receive,
                       [&](sock::Api& api) { return api.accept(fd, addr, len); });
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  return sendto(fd, buf, len, flags, nullptr, 0);
}

ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return recvfrom(fd, buf, len, flags, nullptr, nullptr);
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* addr,
               socklen_t addr_len) {
  return send_all(fd, static_cast<const std::uint8_t*>(buf), len, flags, addr, addr_len);
}

ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* addr, socklen_t* addr_len) {
  auto* bytes = static_cast<std::uint8_t*>(buf);
  size_t done = 0;
  for (;;) {
    const ssize_t n = blocking_call(fd, flags, Direction::receive, [&](sock::Api& api) {
      return api.recvfrom(fd, bytes + done, len - done, flags, addr, addr_len);
    });
    if (n < 0) return done > 0 ? static_cast<ssize_t>(done) : n;
    done += static_cast<size_t>(n);
    // MSG_WAITALL on a stream: on until the buffer is full, the stream ends or an error.
    if (!(flags & MSG_WAITALL) || (flags & MSG_PEEK) || n == 0 || done >= len) {
      return static_cast<ssize_t>(done);
    }
    runtime::Host* host = current_runtime();
    if (!host || !blocking_stream(*host, fd, flags)) return static_cast<ssize_t>(done);
  }
}

ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  const bool stream = [&] {
    runtime::Host* host = current_runtime();
    return host && msg && blocking_stream(*host, fd, flags);
  }();
  if (stream && (msg->msg_iovlen == 0 || msg->msg_iov)) {
    // All of a blocking stream send is queued: gathered once, then sent to the end.
    std::vector<std::uint8_t> data;
    for (size_t i = 0; i < msg->msg_iovlen; ++i) {
      const auto* base = static_cast<const std::uint8_t*>(msg->msg_iov[i].iov_base);
      data.insert(data.end(), base, base + msg->msg_iov[i].iov_len);
    }
    return send_all(fd, data.data(), data.size(), flags, nullptr, 0);
  }
  return blocking_call(fd, flags, Direction::send,
                       [&](sock::Api& api) { return api.sendmsg(fd, msg, flags); });
}

ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  return blocking_call(fd, flags, Direction::receive,
                       [&](sock::Api& api) { return api.recvmsg(fd, msg, flags); });
}

int shutdown(int fd, int how) {
  return call([&](sock::Api& api) { return api.shutdown(fd, how); });
}

// A call blocked on `fd` in another thread wakes and fails with EBADF (Linux leaves it
// blocked until data comes; waking it is what a program closing a socket to stop a reader
// expects).
int close(int fd) {
  runtime::Host* host = current_runtime();
  if (!host) {
    errno = EBADF;
    return -1;
  }
  // SO_LINGER with a timeout on a blocking TCP socket: close waits (at most that long) until
  // the peer has acknowledged everything, FIN included (socket(7)).
  runtime::Host::Deadline linger_deadline;
  const bool linger = host->with_stack([&](Stack& stack) {
    const auto timeout = stack.sockets().linger_timeout(fd);
    if (!timeout) return false;
    linger_deadline = deadline_after(Clock::now(), *timeout);
    return stack.sockets().linger_status(fd, true) == -EAGAIN;
  });
  if (linger) {
    host->wait_until([&](Stack& stack) { return stack.sockets().linger_status(fd, false); },
                     linger_deadline);
  }
  return posix_result(host->with_stack([&](Stack& stack) {
    const int result = stack.sockets().close(fd);
    if (result == 0) host->count_close(fd);
    return result;
  }));
}

int getsockname(int fd, sockaddr* addr, socklen_t* len) {
  return call([&](sock::Api& api) { return api.getsockname(fd, addr, len); });
}

int getpeername(int fd, sockaddr* addr, socklen_t* len) {
  return call([&](sock::Api& api) { return api.getpeername(fd, addr, len); });
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  return call([&](sock::Api& api) { return api.setsockopt(fd, level, name, value, len); });
}

int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  return call([&](sock::Api& api) { return api.getsockopt(fd, level, name, value, len); });
}

int fcntl(int fd, int cmd, int arg) {
  return call([&](sock::Api& api) { return api.fcntl(fd, cmd, arg); });
}

int ioctl(int fd, unsigned long request, int* arg) {
  return call([&](sock::Api& api) { return api.ioctl(fd, request, arg); });
}

int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  if (count > 0 && !fds) {
    errno = EFAULT;
    return -1;
  }
  if (too_many_for_poll(count)) {
    errno = EINVAL;
    return -1;
  }
  const Clock::time_point start = Clock::now();
  // Every entry's revents as poll(2) sets them: negative descriptors are ignored (revents 0),
  // unknown ones get POLLNVAL; returns how many entries have a non-zero revents.
  auto scan = [fds, count](const sock::Api* api) {
    int ready = 0;
    for (nfds_t i = 0; i < count; ++i) {
      pollfd& p = fds[i];
      if (p.fd < 0) {
        p.revents = 0;
        continue;
      }
      p.revents = api ? api->poll_events(p.fd, p.events) : static_cast<short>(POLLNVAL);
      if (p.revents != 0) ++ready;
    }
    return ready;
  };

  runtime::Host* host = current_runtime();
  if (!host) {
    // No Host, so none of these is a tapir descriptor; with nothing to report there is also
    // nothing that could ever become ready.
    const int ready = scan(nullptr);
    if (ready > 0) return ready;
    errno = ENETDOWN;
    return -1;
  }
  const int ready = host->with_stack([&](Stack& stack) { return scan(&stack.sockets()); });
  if (ready > 0 || timeout_ms == 0) return ready;

  runtime::Host::Deadline deadline;
  if (timeout_ms > 0) deadline = start + std::chrono::milliseconds(timeout_ms);
  const int result = host->wait_until(
      [&](Stack& stack) {
        const int n = scan(&stack.sockets());
        return n > 0 ? n : -EAGAIN;
      },
      deadline);
  if (result == -EAGAIN) return 0;  // the timeout passed with nothing ready
  return posix_result(result);
}

}  // namespace tapir
