// linux-rr: TCP request/response and connection-rate load on Linux kernel sockets, plus an echo
// server.
//
//   linux-rr --connect ADDR:PORT [--size 64] [--seconds 3]
//     One connection (TCP_NODELAY); send SIZE bytes, wait for SIZE bytes back, repeat.
//     Prints "transactions N", "seconds S", "transactions/s X", "latency_us p50 A p99 B".
//   linux-rr --connect ADDR:PORT --connections [--size 64] [--seconds 3] [--max N]
//     Each transaction is a whole connection: connect, send SIZE bytes, wait for SIZE bytes,
//     close (we close first, so TIME_WAIT is ours). Prints "connections N", "seconds S",
//     "connections/s X", "latency_us p50 A p99 B". Stops early at --max connections or when
//     the local ports run out (EADDRNOTAVAIL), and says so ("stopped REASON"); the rate is
//     still the connections made over the time they took.
//   linux-rr --server --port P [--seconds S]
//     An echo server (epoll, one thread): echoes every byte on every connection, closes when
//     the client does. Prints "ready listening on port P"; runs until SIGTERM/SIGINT or S s.
//
//   --connect-timeout S   keep retrying the first connect for S s (default 5): the server
//                         may still be starting; a refusal after that is an error
//   --timeout S           give up waiting for one response after S s (default 2)
//
// Any wait is bounded. An error before the first transaction: one line on stderr, exit 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

struct Options {
  bool server = false;
  bool connections = false;
  sockaddr_in peer{};
  bool have_peer = false;
  std::uint16_t port = 0;
  std::size_t size = 64;
  double seconds = 3;
  bool have_seconds = false;
  unsigned long long max = 0;
  double connect_timeout = 5;
  double timeout = 2;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "linux-rr: %s (usage: linux-rr --connect ADDR:PORT [--connections] [--size N] "
               "[--seconds S] [--max N] [--connect-timeout S] [--timeout S] | linux-rr --server "
               "--port P [--seconds S])\n",
               message.c_str());
  std::exit(2);
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "linux-rr: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

double parse_seconds(std::string_view text, const char* flag) {
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0) || v > 86400) {
    usage_error(std::string(flag) + " expects a positive number of seconds");
  }
  return v;
}

unsigned long long parse_count(std::string_view text, const char* flag, unsigned long long max) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v == 0 || v > max) {
    usage_error(std::string(flag) + " expects a number from 1 to " + std::to_string(max));
  }
  return v;
}

Options parse(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--server") {
      opt.server = true;
    } else if (flag == "--connections") {
      opt.connections = true;
    } else if (flag == "--connect") {
      const std::string_view v = value();
      const auto colon = v.rfind(':');
      if (colon == std::string_view::npos) usage_error("--connect expects ADDR:PORT");
      opt.peer.sin_family = AF_INET;
      if (inet_pton(AF_INET, std::string(v.substr(0, colon)).c_str(), &opt.peer.sin_addr) != 1) {
        usage_error("--connect expects an IPv4 address");
      }
      opt.peer.sin_port =
          htons(static_cast<std::uint16_t>(parse_count(v.substr(colon + 1), "port", 65535)));
      opt.have_peer = true;
    } else if (flag == "--port") {
      opt.port = static_cast<std::uint16_t>(parse_count(value(), "--port", 65535));
    } else if (flag == "--size") {
      opt.size = parse_count(value(), "--size", 1 << 20);
    } else if (flag == "--seconds") {
      opt.seconds = parse_seconds(value(), "--seconds");
      opt.have_seconds = true;
    } else if (flag == "--max") {
      opt.max = parse_count(value(), "--max", 1ull << 40);
    } else if (flag == "--connect-timeout") {
      opt.connect_timeout = parse_seconds(value(), "--connect-timeout");
    } else if (flag == "--timeout") {
      opt.timeout = parse_seconds(value(), "--timeout");
    } else {
      usage_error("unknown flag " + std::string(flag));
    }
  }
  if (opt.server == opt.have_peer) usage_error("either --server or --connect ADDR:PORT");
  if (opt.server && opt.port == 0) usage_error("--server needs --port P");
  return opt;
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int wait_for(int fd, short events, double seconds) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = poll(&p, 1, std::max(1, static_cast<int>(seconds * 1000)));
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

std::string endpoint_text(const sockaddr_in& a) {
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
}

// One connect attempt bounded by `seconds`: the socket (non-blocking, TCP_NODELAY), or -1 with
// errno set.
int connect_once(const sockaddr_in& peer, double seconds) {
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  const int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int r = connect(s, reinterpret_cast<const sockaddr*>(&peer), sizeof peer);
  if (r < 0 && errno == EINPROGRESS) {
    if (wait_for(s, POLLOUT, seconds) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
      r = err == 0 ? 0 : -1;
      errno = err;
    } else {
      r = -1;
      errno = ETIMEDOUT;
    }
  }
  if (r == 0) return s;
  const int saved = errno;
  close(s);
  errno = saved;
  return -1;
}

// Retry the first connect until --connect-timeout; the error reported is the last one the
// peer gave (a refusal, say), not the time-out of an attempt the deadline cut short.
int connect_retrying(const Options& opt) {
  const auto t0 = Clock::now();
  int answer = 0;
  for (;;) {
    const double left = opt.connect_timeout - since(t0);
    const int s = connect_once(opt.peer, std::min(1.0, std::max(left, 0.001)));
    if (s >= 0) return s;
    if (errno != ETIMEDOUT) answer = errno;
    if (since(t0) >= opt.connect_timeout) {
      errno = answer ? answer : ETIMEDOUT;
      fail("connect " + endpoint_text(opt.peer));
    }
    usleep(50000);
  }
}

// Send all of buf, then read exactly buf.size() bytes back; false (errno set) on failure.
bool transact(int s, std::vector<char>& buf, double timeout) {
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n = send(s, buf.data() + done, buf.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      if (wait_for(s, POLLOUT, timeout) != 1) {
        errno = ETIMEDOUT;
        return false;
      }
    } else if (n < 0 && errno != EINTR) {
      return false;
    }
  }
  done = 0;
  while (done < buf.size()) {
    const ssize_t n = recv(s, buf.data() + done, buf.size() - done, 0);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      errno = ECONNRESET;
      return false;
    } else if (errno == EAGAIN) {
      if (wait_for(s, POLLIN, timeout) != 1) {
        errno = ETIMEDOUT;
        return false;
      }
    } else if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

void report(const char* what, std::vector<double>& lat, double seconds,
            const std::string& stopped) {
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    if (lat.empty()) return 0.0;
    auto i = static_cast<std::size_t>(p * static_cast<double>(lat.size()));
    return lat[std::min(i, lat.size() - 1)];
  };
  std::printf("%s %zu\nseconds %.3f\n%s/s %.0f\nlatency_us p50 %.1f p99 %.1f\n", what, lat.size(),
              seconds, what, seconds > 0 ? static_cast<double>(lat.size()) / seconds : 0.0,
              pct(0.50), pct(0.99));
  if (!stopped.empty()) std::printf("stopped %s\n", stopped.c_str());
  std::fflush(stdout);
}

int run_client(const Options& opt) {
  std::vector<char> buf(opt.size, 'r');
  std::vector<double> lat;
  lat.reserve(1 << 20);
  std::string stopped;
  if (!opt.connections) {
    const int s = connect_retrying(opt);
    const auto t0 = Clock::now();
    while (!g_stop && since(t0) < opt.seconds && (opt.max == 0 || lat.size() < opt.max)) {
      const auto t = Clock::now();
      if (!transact(s, buf, opt.timeout)) {
        if (lat.empty()) fail("first transaction with " + endpoint_text(opt.peer));
        stopped = std::string("transaction failed: ") + std::strerror(errno);
        break;
      }
      lat.push_back(since(t) * 1e6);
    }
    report("transactions", lat, since(t0), stopped);
    close(s);
    return 0;
  }
  // Connections: the first one retried (the server may be starting), the rest timed.
  const int first = connect_retrying(opt);
  if (!transact(first, buf, opt.timeout)) fail("first transaction with " + endpoint_text(opt.peer));
  close(first);
  const auto t0 = Clock::now();
  while (!g_stop && since(t0) < opt.seconds && (opt.max == 0 || lat.size() < opt.max)) {
    const auto t = Clock::now();
    const int s = connect_once(opt.peer, opt.timeout);
    if (s < 0) {
      stopped = std::string("connect failed: ") + std::strerror(errno);
      break;
    }
    const bool ok = transact(s, buf, opt.timeout);
    const int saved = errno;
    close(s);
    if (!ok) {
      stopped = std::string("transaction failed: ") + std::strerror(saved);
      break;
    }
    lat.push_back(since(t) * 1e6);
  }
  if (opt.max && lat.size() >= opt.max) stopped = "at --max";
  report("connections", lat, since(t0), stopped);
  return 0;
}

int run_server(const Options& opt) {
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (l < 0) fail("socket");
  const int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(opt.port);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fail("bind");
  if (listen(l, 4096) < 0) fail("listen");
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) fail("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = l;
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  std::printf("ready listening on port %u\n", opt.port);
  std::fflush(stdout);

  std::unordered_map<int, std::string> pending;  // bytes not yet echoed (peer's window full)
  std::vector<char> buf(65536);
  std::array<epoll_event, 64> events{};
  const auto t0 = Clock::now();
  unsigned long long accepted = 0;
  auto drop = [&](int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    pending.erase(fd);
    close(fd);
  };
  while (!g_stop && (!opt.have_seconds || since(t0) < opt.seconds)) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == l) {
        for (;;) {
          const int c = accept4(l, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (c < 0) break;
          ++accepted;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      std::string& out = pending[fd];
      bool closed = false;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          const ssize_t r = recv(fd, buf.data(), buf.size(), 0);
          if (r > 0) {
            out.append(buf.data(), static_cast<std::size_t>(r));
            if (out.size() > (4u << 20)) break;  // let the writes catch up
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EINTR)) closed = true;
          break;
        }
      }
      while (!out.empty()) {
        const ssize_t w = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        if (w > 0) {
          out.erase(0, static_cast<std::size_t>(w));
        } else {
          if (w < 0 && errno != EAGAIN && errno != EINTR) closed = true;
          break;
        }
      }
      if (closed) {
        drop(fd);
        continue;
      }
      epoll_event cev{};
      cev.events = out.empty() ? EPOLLIN : EPOLLOUT;
      cev.data.fd = fd;
      epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
    }
  }
  std::printf("accepted %llu\n", accepted);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: a blocked wait returns at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return opt.server ? run_server(opt) : run_client(opt);
}
