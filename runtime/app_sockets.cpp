// Waiting on a socket without missing a stop signal, and the TCP connect and listen the sample
// apps share.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <tapir/app.hpp>
#include <tapir/socket.hpp>

namespace tapir {

namespace {

using Clock = std::chrono::steady_clock;

// How long one tapir::poll in wait_for() waits at most: how soon a stop signal is noticed.
constexpr int kTickMs = 200;

void print_error(std::string_view program, const std::string& what, int error) {
  std::fprintf(stderr, "%.*s: %s: %s\n", static_cast<int>(program.size()), program.data(),
               what.c_str(), std::strerror(error));
}

}  // namespace

int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 1000000));
}

void sleep_until(int fd, Clock::time_point when) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(when - Clock::now());
  pollfd pfd{fd, POLLIN, 0};
  if (left.count() > 0) tapir::poll(&pfd, 1, static_cast<int>(left.count()));
}

int wait_for(int fd, short events, Clock::time_point deadline, const StopSignals& stop) {
  while (!stop.stopped()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    pollfd p{fd, events, 0};
    const int n = tapir::poll(&p, 1, static_cast<int>(std::min<long long>(left, kTickMs)));
    if (n < 0) return -1;
    if (n > 0) return p.revents;
  }
  return 0;
}

int connect_to(std::string_view program, const sockaddr_in& peer, std::chrono::microseconds timeout,
               const StopSignals& stop) {
  const int fd = tapir::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    const int error = errno;
    print_error(program, "socket", error);
    return -1;
  }
  if (tapir::connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) == 0) return fd;
  int error = errno;
  if (error == EINPROGRESS) {
    const int revents = wait_for(fd, POLLOUT, Clock::now() + timeout, stop);
    if (revents < 0) {
      error = errno;
    } else if (revents == 0) {
      error = stop.stopped() ? EINTR : ETIMEDOUT;
    } else {
      socklen_t len = sizeof error;
      if (tapir::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) error = errno;
    }
  }
  if (error == 0) return fd;
  if (!stop.stopped()) print_error(program, "connect to " + address_text(peer), error);
  tapir::close(fd);
  return -1;
}

int listen_on(std::string_view program, std::uint16_t port, int backlog) {
  const int fd = tapir::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    const int error = errno;
    print_error(program, "socket", error);
    return -1;
  }
  const int on = 1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(port);
  local.sin_addr.s_addr = htonl(INADDR_ANY);
  if (tapir::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      tapir::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0 ||
      tapir::listen(fd, backlog) < 0) {
    const int error = errno;
    print_error(program, "port " + std::to_string(port), error);
    tapir::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace tapir
