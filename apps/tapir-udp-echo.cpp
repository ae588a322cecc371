// tapir-udp-echo: a UDP echo server (RFC 862) and a client that checks the echo, on tapir.
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

// 65535 less the IPv4 (20) and UDP (8) headers: the most one datagram carries (RFC 768).
constexpr std::size_t kMaxDatagram = 65507;

struct Settings {
  std::optional<std::uint16_t> server_port;  // --server
  std::optional<sockaddr_in> peer;           // --client
  std::optional<std::string> message;
  std::optional<std::size_t> size;
  std::optional<long> count;
  timeval timeout{2, 0};
};

// --- command line -----------------------------------------------------------------------

std::optional<long> parse_integer(std::string_view text, long min, long max) {
  long v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<sockaddr_in> parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  const std::string host(text.substr(0, colon));
  const auto port = parse_integer(text.substr(colon + 1), 1, 65535);
  if (!port || inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) return std::nullopt;
  sin.sin_port = htons(static_cast<std::uint16_t>(*port));
  return sin;
}

// --- signals ----------------------------------------------------------------------------

// SIGINT and SIGTERM end the run, SIGUSR1 prints the counters. main() blocks them before the
// Host starts, so its thread inherits the mask, and this thread takes them. It wakes a
// recvfrom() blocked on `fd` by shutting the socket down for reading: it then returns 0, as
// on Linux (shutdown(2)).
class SignalWatch {
 public:
  static sigset_t block() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return signals;
  }

  SignalWatch(tapir::Host& host, int fd, sigset_t signals)
      : thread_([this, &host, fd, signals] { run(host, fd, signals); }) {}
  ~SignalWatch() {
    finished_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);  // ends its sigtimedwait() now
    thread_.join();
  }

  bool stopped() const { return stopped_; }
  // Once stopped(): why the Host's loop ended on its own (its TAP was deleted...), if it did.
  std::optional<std::string> failure() const {
    return stopped_ ? failure_ : std::optional<std::string>();
  }

 private:
  void run(tapir::Host& host, int fd, sigset_t signals) {
    const timespec second{1, 0};  // how often to look at host.failure(), as tapird
    while (!finished_) {
      const int signal = sigtimedwait(&signals, nullptr, &second);
      if (finished_) break;
      if (signal == SIGUSR1) host.print_stats(std::cerr);
      if (stopped_) continue;
      if (signal != SIGINT && signal != SIGTERM) {
        failure_ = host.failure();
        if (!failure_) continue;
      }
      stopped_ = true;
      tapir::shutdown(fd, SHUT_RD);
    }
  }

  std::atomic<bool> finished_{false};
  std::atomic<bool> stopped_{false};
  std::optional<std::string> failure_;  // written only before stopped_ is set
  std::thread thread_;
};

// --- echo -------------------------------------------------------------------------------

std::string address_text(const sockaddr_in& sin) {
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(sin.sin_port));
}

// The payload for a terminal: printable ASCII as is, the rest as C escapes, long ones cut.
std::string printable(const std::vector<std::uint8_t>& data) {
  constexpr std::size_t shown = 64;
  std::string out;
  for (std::size_t i = 0; i < data.size() && i < shown; ++i) {
    const std::uint8_t c = data[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (data.size() > shown) out += "...";
  return out;
}

// What the client sends: --message, or stdin when there is none; --size repeats or cuts it to
// N bytes (with neither, N bytes counting 0, 1, 2, ...).
std::optional<std::vector<std::uint8_t>> payload(const Settings& settings) {
  std::vector<std::uint8_t> data;
  if (settings.message) {
    data.assign(settings.message->begin(), settings.message->end());
  } else if (!settings.size) {
    std::uint8_t chunk[4096];
    for (ssize_t n; (n = ::read(STDIN_FILENO, chunk, sizeof chunk)) > 0;) {
      data.insert(data.end(), chunk, chunk + n);
      if (data.size() > kMaxDatagram) return std::nullopt;
    }
  }
  if (settings.size) {
    std::vector<std::uint8_t> sized(*settings.size);
    for (std::size_t i = 0; i < sized.size(); ++i) {
      sized[i] = data.empty() ? static_cast<std::uint8_t>(i) : data[i % data.size()];
    }
    data = std::move(sized);
  }
  return data;
}

// RFC 862: "any data received is sent back"; one datagram in, the same datagram out.
int serve(int fd, const Settings& settings, const SignalWatch& watch) {
  long echoed = 0;
  std::vector<std::uint8_t> buffer(kMaxDatagram + 1);
  while (!settings.count || echoed < *settings.count) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = tapir::recvfrom(fd, buffer.data(), buffer.size(), 0,
                                      reinterpret_cast<sockaddr*>(&from), &from_len);
    if (watch.stopped()) break;
    if (n < 0) {
      std::fprintf(stderr, "tapir-udp-echo: recvfrom: %s\n", std::strerror(errno));
      return 1;
    }
    if (tapir::sendto(fd, buffer.data(), static_cast<std::size_t>(n), 0,
                      reinterpret_cast<sockaddr*>(&from), from_len) < 0) {
      std::fprintf(stderr, "tapir-udp-echo: sendto %s: %s\n", address_text(from).c_str(),
                   std::strerror(errno));
      continue;  // one peer's trouble does not stop the service
    }
    ++echoed;
    std::printf("echoed %zd bytes to %s\n", n, address_text(from).c_str());
    std::fflush(stdout);
  }
  return 0;
}

// Sends the payload --count times, one at a time, and checks each echo is byte-identical.
int client(int fd, const Settings& settings, const std::vector<std::uint8_t>& data,
           const SignalWatch& watch) {
  // A connected UDP socket hears ICMP port unreachable as ECONNREFUSED (RFC 1122 §4.1.3.3)
  // and receives only from its peer.
  const sockaddr_in& peer = *settings.peer;
  if (tapir::connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) < 0 ||
      tapir::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &settings.timeout, sizeof settings.timeout) <
          0) {
    std::fprintf(stderr, "tapir-udp-echo: %s: %s\n", address_text(peer).c_str(),
                 std::strerror(errno));
    return 1;
  }
  const long count = settings.count.value_or(1);
  std::vector<std::uint8_t> reply(kMaxDatagram + 1);
  for (long i = 1; i <= count; ++i) {
    if (tapir::send(fd, data.data(), data.size(), 0) < 0) {
      std::fprintf(stderr, "tapir-udp-echo: send: %s\n", std::strerror(errno));
      return 1;
    }
    const ssize_t n = tapir::recv(fd, reply.data(), reply.size(), 0);
    if (watch.stopped()) return 1;
    if (n < 0 && errno == EAGAIN) {
      std::fprintf(stderr, "tapir-udp-echo: no reply from %s within %ld.%03ld s\n",
                   address_text(peer).c_str(), static_cast<long>(settings.timeout.tv_sec),
                   static_cast<long>(settings.timeout.tv_usec / 1000));
      return 1;
    }
    if (n < 0) {
      std::fprintf(stderr, "tapir-udp-echo: recv: %s\n", std::strerror(errno));
      return 1;
    }
    reply.resize(static_cast<std::size_t>(n));
    std::printf("%zd bytes from %s: %s\n", n, address_text(peer).c_str(), printable(reply).c_str());
    std::fflush(stdout);
    if (reply != data) {
      const auto diff = std::mismatch(data.begin(), data.end(), reply.begin(), reply.end());
      std::fprintf(stderr,
                   "tapir-udp-echo: reply %ld differs: sent %zu bytes, got %zd, first difference "
                   "at byte %zd\n",
                   i, data.size(), n, diff.first - data.begin());
      return 1;
    }
    reply.resize(kMaxDatagram + 1);
  }
  std::printf("%ld datagram%s of %zu bytes echoed back identical\n", count, count == 1 ? "" : "s",
              data.size());
  return 0;
}

// "ready tap0 10.0.0.2/24 02:00:0a:00:00:02", as tapird prints it: scripts wait for it.
void print_ready_line(tapir::Host& host) {
  std::string line = "ready";
  for (const tapir::InterfaceInfo& itf : host.interfaces()) {
    line += " " + itf.name + " " + (itf.address ? itf.address->to_string() : std::string("-")) +
            " " + itf.mac.to_string();
  }
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  tapir::OptionParser parser(
      "tapir-udp-echo",
      "A UDP echo server (--server PORT), or a client (--client HOST:PORT) that sends --message,\n"
      "or stdin, and exits 1 unless every reply is byte-identical.");
  parser.add_option("--server", "PORT", "echo every datagram that comes to PORT back",
                    [&](std::string_view v) {
                      auto n = parse_integer(v, 1, 65535);
                      if (!n)
                        return std::optional(tapir::OptionParser::expected("a port 1..65535", v));
                      settings.server_port = static_cast<std::uint16_t>(*n);
                      return std::optional<std::string>();
                    });
  parser.add_option(
      "--client", "HOST:PORT", "send to the echo server at HOST:PORT", [&](std::string_view v) {
        settings.peer = parse_host_port(v);
        if (!settings.peer) {
          return std::optional(
              tapir::OptionParser::expected("an IPv4 address and port like 10.0.0.1:7", v));
        }
        return std::optional<std::string>();
      });
  parser.add_option("--message", "TEXT", "client: the datagram to send (default: stdin)",
                    [&](std::string_view v) {
                      if (v.size() > kMaxDatagram) {
                        return std::optional<std::string>("expected at most 65507 bytes");
                      }
                      settings.message = std::string(v);
                      return std::optional<std::string>();
                    });
  parser.add_option("--size", "N", "client: send N bytes (the message repeated, or 0,1,2,...)",
                    [&](std::string_view v) {
                      auto n = parse_integer(v, 0, kMaxDatagram);
                      if (!n) {
                        return std::optional(tapir::OptionParser::expected("a size 0..65507", v));
                      }
                      settings.size = static_cast<std::size_t>(*n);
                      return std::optional<std::string>();
                    });
  parser.add_option(
      "--count", "N", "client: send N datagrams (1); server: stop after N",
      [&](std::string_view v) {
        auto n = parse_integer(v, 1, 1L << 62);
        if (!n) return std::optional(tapir::OptionParser::expected("a count of 1 or more", v));
        settings.count = *n;
        return std::optional<std::string>();
      });
  parser.add_option(
      "--timeout", "S", "client: seconds to wait for each reply (2)", [&](std::string_view v) {
        std::string s(v);
        char* end = nullptr;
        const double seconds = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != '\0' || !(seconds >= 0.001 && seconds <= 3600)) {
          return std::optional(
              tapir::OptionParser::expected("seconds from 0.001 to 3600 like 0.5", v));
        }
        const long long us = std::llround(seconds * 1e6);
        settings.timeout =
            timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
        return std::optional<std::string>();
      });
  const tapir::Options options = parser.parse_or_exit(argc, argv);
  auto usage_error = [&](const char* message) {
    std::fprintf(stderr, "tapir-udp-echo: %s\n", message);
    return 2;
  };
  if (settings.server_port.has_value() == settings.peer.has_value()) {
    return usage_error("expected one of --server PORT or --client HOST:PORT (try --help)");
  }
  if (settings.server_port && (settings.message || settings.size)) {
    return usage_error("--message and --size are for --client; the server sends back what it gets");
  }
  std::vector<std::uint8_t> data;
  if (settings.peer) {
    auto p = payload(settings);
    if (!p) return usage_error("stdin: expected at most 65507 bytes, one datagram's worth");
    data = std::move(*p);
  }

  const sigset_t signals = SignalWatch::block();
  std::unique_ptr<tapir::Host> host;
  try {
    host = std::make_unique<tapir::Host>(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tapir-udp-echo: %s\n", e.what());
    return 1;
  }
  host->start();

  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::fprintf(stderr, "tapir-udp-echo: socket: %s\n", std::strerror(errno));
    return 1;
  }
  int result = 0;
  std::optional<std::string> failure;
  {
    SignalWatch watch(*host, fd, signals);
    if (settings.server_port) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      local.sin_port = htons(*settings.server_port);
      if (tapir::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
        std::fprintf(stderr, "tapir-udp-echo: bind port %u: %s\n", *settings.server_port,
                     std::strerror(errno));
        result = 1;
      } else {
        print_ready_line(*host);
        result = serve(fd, settings, watch);
      }
    } else {
      result = client(fd, settings, data, watch);
    }
    failure = watch.failure();
  }

  tapir::close(fd);
  host->stop();
  if (options.stats) host->print_stats(std::cout);
  if (failure) {
    std::fprintf(stderr, "tapir-udp-echo: %s\n", failure->c_str());
    return 1;
  }
  return result;
}
