// linux-bulk: TCP bulk sender/receiver on Linux kernel sockets, the peer (and reference) for
// tapir-bulk.
//
// The same four shapes and output lines as tapir-bulk, so the benchmark can put either on
// either side of a link:
//
//   linux-bulk --send ADDR:PORT (--bytes N | --seconds S)   connect, send, then wait for EOF
//   linux-bulk --recv --port P [--bytes N | --seconds S]      listen, accept one, read to EOF
//   linux-bulk --listen P --send (--bytes N | --seconds S)    listen, accept one, send
//   linux-bulk --connect ADDR:PORT --recv [--bytes N | --seconds S]   connect, read
//
//   --sha256               hash the bytes sent/received (OpenSSL; "sha256 HEX"), off by default
//   --connect-timeout S    keep retrying a refused/unanswered connect for S s (default 5)
//   --timeout S            give up on any single wait after S s (default 30)
//   --buffer N             bytes per read()/write() (default 262144)
//
// A sender sends N bytes (or for S seconds) and shuts down its write side; its "seconds" run
// from the connection to the moment the receiver had acknowledged every byte (SIOCOUTQ), so
// they do not end early by the size of the send buffer. A receiver's run from the accept (or
// connect) to the last byte before EOF (or N bytes / S s). SIGTERM/SIGINT end the run early:
// what was measured is printed, marked incomplete.
// Output: "ready listening on port P" (listening shapes, before the accept), then "bytes N",
// "seconds S", "throughput X Mbit/s" (10^6 bit/s of payload), "sha256 HEX" with --sha256.
// On a timeout it still prints what it measured, then "incomplete REASON", and exits 1.
// Errors: one line on stderr ("linux-bulk: connect 10.0.0.2:5001: Connection refused"), exit 1.
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#if TAPIR_BENCH_HAVE_OPENSSL
#include <openssl/evp.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

struct Options {
  bool send = false;
  bool recv = false;
  bool listen = false;  // else connect
  sockaddr_in peer{};
  std::uint16_t port = 0;
  unsigned long long bytes = 0;  // 0: unbounded (receiver) / use seconds (sender)
  double seconds = 0;
  bool sha256 = false;
  double connect_timeout = 5;
  double timeout = 30;
  std::size_t buffer = 262144;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "linux-bulk: %s (usage: linux-bulk --send ADDR:PORT | --recv --port P | --listen P "
               "--send | --connect ADDR:PORT --recv; [--bytes N] [--seconds S] [--sha256] "
               "[--connect-timeout S] [--timeout S] [--buffer N])\n",
               message.c_str());
  std::exit(2);
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "linux-bulk: %s: %s\n", what.c_str(), std::strerror(errno));
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

unsigned long long parse_count(std::string_view text, const char* flag) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v == 0) {
    usage_error(std::string(flag) + " expects a positive number");
  }
  return v;
}

std::uint16_t parse_port(std::string_view text) {
  const auto v = parse_count(text, "port");
  if (v > 65535) usage_error("a port is 1 to 65535");
  return static_cast<std::uint16_t>(v);
}

sockaddr_in parse_endpoint(std::string_view text, const char* flag) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) usage_error(std::string(flag) + " expects ADDR:PORT");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (inet_pton(AF_INET, std::string(text.substr(0, colon)).c_str(), &a.sin_addr) != 1) {
    usage_error(std::string(flag) + " expects an IPv4 address");
  }
  a.sin_port = htons(parse_port(text.substr(colon + 1)));
  return a;
}

Options parse(int argc, char** argv) {
  Options opt;
  bool have_peer = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--send") {
      opt.send = true;
      // "--send ADDR:PORT" connects; a bare "--send" (with --listen) does not.
      if (i + 1 < argc && argv[i + 1][0] != '-') {
        opt.peer = parse_endpoint(value(), "--send");
        have_peer = true;
      }
    } else if (flag == "--recv") {
      opt.recv = true;
    } else if (flag == "--connect") {
      opt.peer = parse_endpoint(value(), "--connect");
      have_peer = true;
    } else if (flag == "--listen") {
      opt.listen = true;
      opt.port = parse_port(value());
    } else if (flag == "--port") {
      opt.port = parse_port(value());
    } else if (flag == "--bytes") {
      opt.bytes = parse_count(value(), "--bytes");
    } else if (flag == "--seconds") {
      opt.seconds = parse_seconds(value(), "--seconds");
    } else if (flag == "--sha256") {
      opt.sha256 = true;
    } else if (flag == "--connect-timeout") {
      opt.connect_timeout = parse_seconds(value(), "--connect-timeout");
    } else if (flag == "--timeout") {
      opt.timeout = parse_seconds(value(), "--timeout");
    } else if (flag == "--buffer") {
      opt.buffer = parse_count(value(), "--buffer");
      if (opt.buffer > (64u << 20)) usage_error("--buffer is at most 64 MiB");
    } else {
      usage_error("unknown flag " + std::string(flag));
    }
  }
  if (opt.send == opt.recv) usage_error("exactly one of --send and --recv");
  if (opt.recv && !have_peer) opt.listen = true;
  if (opt.listen == have_peer) usage_error("either connect to ADDR:PORT or listen on a port");
  if (opt.listen && opt.port == 0) usage_error("listening needs --port P (or --listen P)");
  if (opt.send && opt.bytes == 0 && opt.seconds == 0)
    usage_error("--send needs --bytes or --seconds");
#if !TAPIR_BENCH_HAVE_OPENSSL
  if (opt.sha256) usage_error("--sha256: built without OpenSSL");
#endif
  return opt;
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int wait_for(int fd, short events, double seconds) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = poll(&p, 1, static_cast<int>(seconds * 1000));
    if (r < 0 && errno == EINTR && !g_stop) continue;
    return r;  // 1 ready, 0 timeout, -1 error (or a signal that ends the run)
  }
}

std::string endpoint_text(const sockaddr_in& a) {
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
}

// Connect, retrying refusals and silence (the peer may still be starting) until the deadline;
// the error reported is the last answer the peer gave, if any, not a cut-short attempt's.
int connect_retrying(const Options& opt) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(opt.connect_timeout);
  int last_errno = ETIMEDOUT;
  while (Clock::now() < deadline) {
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) fail("socket");
    int r = connect(s, reinterpret_cast<const sockaddr*>(&opt.peer), sizeof opt.peer);
    if (r < 0 && errno == EINPROGRESS) {
      const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
      if (wait_for(s, POLLOUT, left < 1 ? (left > 0 ? left : 0.001) : 1.0) == 1) {
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
    if (r == 0) return s;  // non-blocking: every wait below is a bounded poll
    if (errno != ETIMEDOUT || last_errno == ETIMEDOUT) last_errno = errno;  // keep a real answer
    close(s);
    usleep(50000);
  }
  errno = last_errno;
  fail("connect " + endpoint_text(opt.peer));
}

int accept_one(const Options& opt) {
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) fail("socket");
  const int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(opt.port);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fail("bind");
  if (listen(l, 4) < 0) fail("listen");
  std::printf("ready listening on port %u\n", opt.port);
  std::fflush(stdout);
  if (wait_for(l, POLLIN, opt.timeout) != 1) {
    errno = ETIMEDOUT;
    fail("accept");
  }
  const int s = accept4(l, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (s < 0) fail("accept");
  close(l);
  return s;
}

class Hash {
 public:
  explicit Hash(bool on) {
#if TAPIR_BENCH_HAVE_OPENSSL
    if (on) {
      ctx_ = EVP_MD_CTX_new();
      EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
    }
#else
    (void)on;
#endif
  }
  void update(const void* data, std::size_t n) {
#if TAPIR_BENCH_HAVE_OPENSSL
    if (ctx_) EVP_DigestUpdate(ctx_, data, n);
#else
    (void)data;
    (void)n;
#endif
  }
  void print() {
#if TAPIR_BENCH_HAVE_OPENSSL
    if (!ctx_) return;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    std::printf("sha256 ");
    for (unsigned i = 0; i < len; ++i) std::printf("%02x", md[i]);
    std::printf("\n");
#endif
  }

 private:
#if TAPIR_BENCH_HAVE_OPENSSL
  EVP_MD_CTX* ctx_ = nullptr;
#endif
};

void report(unsigned long long bytes, double seconds, Hash& hash, const char* incomplete) {
  std::printf("bytes %llu\nseconds %.3f\nthroughput %.1f Mbit/s\n", bytes, seconds,
              seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0.0);
  hash.print();
  if (incomplete) std::printf("incomplete %s\n", incomplete);
  std::fflush(stdout);
}

int run_send(const Options& opt, int s, Hash& hash) {
  std::vector<unsigned char> buf(opt.buffer);
  for (std::size_t i = 0; i < buf.size(); ++i)
    buf[i] = static_cast<unsigned char>(i * 7 + (i >> 8));
  const auto t0 = Clock::now();
  unsigned long long sent = 0;
  const char* incomplete = nullptr;
  for (;;) {
    if (g_stop) {
      incomplete = "interrupted while sending";
      break;
    }
    if (opt.bytes ? sent >= opt.bytes : since(t0) >= opt.seconds) break;
    std::size_t chunk = buf.size();
    if (opt.bytes && opt.bytes - sent < chunk) chunk = static_cast<std::size_t>(opt.bytes - sent);
    const std::size_t off = static_cast<std::size_t>(sent % buf.size());
    if (chunk > buf.size() - off) chunk = buf.size() - off;  // keep the stream one pattern
    const ssize_t n = send(s, buf.data() + off, chunk, MSG_NOSIGNAL);
    if (n > 0) {
      hash.update(buf.data() + off, static_cast<std::size_t>(n));
      sent += static_cast<unsigned long long>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (wait_for(s, POLLOUT, opt.timeout) == 1 || g_stop) continue;
      incomplete = "timeout while sending";
      break;
    }
    report(sent, since(t0), hash, "connection failed while sending");
    fail("send");
  }
  double elapsed = since(t0);
  if (!incomplete) {
    // The clock stops when the receiver has acknowledged every byte (SIOCOUTQ, the bytes not
    // yet acknowledged, is 0, or 1: only our FIN), not when the last send() returned.
    shutdown(s, SHUT_WR);
    int outq = 0, last_outq = -1;
    auto progress = Clock::now();
    for (;;) {
      if (ioctl(s, SIOCOUTQ, &outq) < 0) fail("ioctl SIOCOUTQ");
      if (outq <= 1) break;
      if (outq != last_outq) {
        last_outq = outq;
        progress = Clock::now();
      } else if (since(progress) > opt.timeout) {
        incomplete = "timeout waiting for the last acknowledgements";
        break;
      }
      if (g_stop) {
        incomplete = "interrupted waiting for the last acknowledgements";
        break;
      }
      pollfd p{s, POLLRDHUP, 0};
      if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) break;  // reset or closed
      usleep(100);
    }
    elapsed = since(t0);
    // Then give the receiver a moment to close (not timed), so both ends finish cleanly.
    char sink[4096];
    while (!g_stop && wait_for(s, POLLIN, 2.0) == 1) {
      const ssize_t n = recv(s, sink, sizeof sink, 0);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    }
  }
  report(sent, elapsed, hash, incomplete);
  close(s);
  return incomplete ? 1 : 0;
}

int run_recv(const Options& opt, int s, Hash& hash) {
  std::vector<unsigned char> buf(opt.buffer);
  const auto t0 = Clock::now();
  auto last = t0;  // the clock stops at the last byte (EOF follows it at once, or never)
  unsigned long long got = 0;
  const char* incomplete = nullptr;
  for (;;) {
    if (g_stop) {
      incomplete = "interrupted while receiving";
      break;
    }
    if (opt.bytes && got >= opt.bytes) break;
    if (opt.seconds > 0 && since(t0) >= opt.seconds) break;
    std::size_t want = buf.size();
    if (opt.bytes && opt.bytes - got < want) want = static_cast<std::size_t>(opt.bytes - got);
    const ssize_t n = recv(s, buf.data(), want, 0);
    if (n > 0) {
      hash.update(buf.data(), static_cast<std::size_t>(n));
      got += static_cast<unsigned long long>(n);
      last = Clock::now();
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (wait_for(s, POLLIN, opt.timeout) == 1 || g_stop) continue;
      incomplete = "timeout while receiving";
      break;
    }
    report(got, std::chrono::duration<double>(last - t0).count(), hash,
           "connection failed while receiving");
    fail("recv");
  }
  close(s);
  report(got, std::chrono::duration<double>(last - t0).count(), hash, incomplete);
  return incomplete ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: a wait returns, and what was measured is printed
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  const int s = opt.listen ? accept_one(opt) : connect_retrying(opt);
  Hash hash(opt.sha256);
  return opt.send ? run_send(opt, s, hash) : run_recv(opt, s, hash);
}
