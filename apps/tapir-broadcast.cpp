// tapir-broadcast: sends UDP broadcasts (limited or subnet-directed) or listens for them, on tapir.
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
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

using Clock = std::chrono::steady_clock;

struct Settings {
  std::optional<std::uint16_t> send_port;    // --send
  std::optional<std::uint16_t> listen_port;  // --listen
  in_addr to{htonl(INADDR_BROADCAST)};       // RFC 919: 255.255.255.255, this network only
  std::string message = "hello world";
  std::optional<long> count;
  std::chrono::milliseconds interval{1000};
};

// --- command line -----------------------------------------------------------------------

std::optional<long> parse_integer(std::string_view text, long min, long max) {
  long v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max) return std::nullopt;
  return v;
}

tapir::OptionParser::ValueCheck port_into(std::optional<std::uint16_t>& port) {
  return [&port](std::string_view v) {
    auto n = parse_integer(v, 1, 65535);
    if (!n) return std::optional(tapir::OptionParser::expected("a port 1..65535", v));
    port = static_cast<std::uint16_t>(*n);
    return std::optional<std::string>();
  };
}

// --- signals ----------------------------------------------------------------------------

// SIGINT and SIGTERM end the run, SIGUSR1 prints the counters. main() blocks them before the
// Host starts, so its thread inherits the mask, and this thread takes them. It wakes a
// recvfrom() or poll() blocked on `fd` by shutting the socket down for reading: they then
// return 0 / POLLIN, as on Linux (shutdown(2)).
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

// --- broadcast --------------------------------------------------------------------------

std::string address_text(const sockaddr_in& sin) {
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(sin.sin_port));
}

// The payload for a terminal: printable ASCII as is, the rest as C escapes.
std::string printable(const std::uint8_t* data, std::size_t len) {
  std::string out;
  for (std::size_t i = 0; i < len; ++i) {
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
  return out;
}

// Sends --message --count times (1), --interval apart. RFC 1122 §3.3.6 / RFC 919: a host
// sends broadcasts only when asked to; as on Linux, that is the SO_BROADCAST option.
int send_broadcasts(int fd, const Settings& settings, const SignalWatch& watch) {
  const int on = 1;
  if (tapir::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) < 0) {
    std::fprintf(stderr, "tapir-broadcast: setsockopt SO_BROADCAST: %s\n", std::strerror(errno));
    return 1;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = settings.to;
  to.sin_port = htons(*settings.send_port);
  const long count = settings.count.value_or(1);
  Clock::time_point next = Clock::now();
  for (long i = 0; i < count; ++i) {
    if (i > 0) {
      // Sleep until the next send, but wake at once when a signal shuts the socket down.
      next += settings.interval;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now());
      pollfd pfd{fd, POLLIN, 0};
      if (left.count() > 0) tapir::poll(&pfd, 1, static_cast<int>(left.count()));
    }
    if (watch.stopped()) break;
    if (tapir::sendto(fd, settings.message.data(), settings.message.size(), 0,
                      reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      std::fprintf(stderr, "tapir-broadcast: sendto %s: %s\n", address_text(to).c_str(),
                   std::strerror(errno));
      return 1;
    }
    std::printf("sent %zu bytes to %s\n", settings.message.size(), address_text(to).c_str());
    std::fflush(stdout);
  }
  return 0;
}

// Prints every datagram to the port: a socket bound to INADDR_ANY receives unicast, limited
// (255.255.255.255) and subnet-directed broadcasts alike (RFC 1122 §3.3.6).
int listen_for_broadcasts(int fd, const Settings& settings, const SignalWatch& watch,
                          tapir::Host& host) {
  const int on = 1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(*settings.listen_port);
  if (tapir::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      tapir::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    std::fprintf(stderr, "tapir-broadcast: bind port %u: %s\n", *settings.listen_port,
                 std::strerror(errno));
    return 1;
  }
  // "ready tap0 10.0.0.2/24 02:00:0a:00:00:02", as tapird prints it: scripts wait for it.
  std::string ready = "ready";
  for (const tapir::InterfaceInfo& itf : host.interfaces()) {
    ready += " " + itf.name + " " + (itf.address ? itf.address->to_string() : std::string("-")) +
             " " + itf.mac.to_string();
  }
  std::printf("%s\n", ready.c_str());
  std::fflush(stdout);

  std::vector<std::uint8_t> buffer(65536);
  for (long received = 0; !settings.count || received < *settings.count; ++received) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = tapir::recvfrom(fd, buffer.data(), buffer.size(), 0,
                                      reinterpret_cast<sockaddr*>(&from), &from_len);
    if (watch.stopped()) break;
    if (n < 0) {
      std::fprintf(stderr, "tapir-broadcast: recvfrom: %s\n", std::strerror(errno));
      return 1;
    }
    std::printf("from %s %zd bytes: %s\n", address_text(from).c_str(), n,
                printable(buffer.data(), static_cast<std::size_t>(n)).c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  tapir::OptionParser parser(
      "tapir-broadcast",
      "Sends UDP broadcasts (--send PORT, to 255.255.255.255 or --to a subnet broadcast such as\n"
      "10.0.0.255) or prints the datagrams that come to a port (--listen PORT).");
  parser.add_option("--send", "PORT", "broadcast --message to PORT", port_into(settings.send_port));
  parser.add_option("--listen", "PORT", "print each datagram that comes to PORT",
                    port_into(settings.listen_port));
  parser.add_option("--to", "ADDR", "send: destination (255.255.255.255)", [&](std::string_view v) {
    const std::string text(v);
    if (inet_pton(AF_INET, text.c_str(), &settings.to) != 1) {
      return std::optional(tapir::OptionParser::expected("an IPv4 address like 10.0.0.255", v));
    }
    return std::optional<std::string>();
  });
  parser.add_option("--message", "TEXT", "send: the datagram's text (\"hello world\")",
                    [&](std::string_view v) {
                      if (v.size() > 65507) {
                        return std::optional<std::string>("expected at most 65507 bytes");
                      }
                      settings.message = std::string(v);
                      return std::optional<std::string>();
                    });
  parser.add_option(
      "--count", "N", "send: N datagrams (1); listen: stop after N (never)",
      [&](std::string_view v) {
        auto n = parse_integer(v, 1, 1L << 62);
        if (!n) return std::optional(tapir::OptionParser::expected("a count of 1 or more", v));
        settings.count = *n;
        return std::optional<std::string>();
      });
  parser.add_option(
      "--interval", "S", "send: seconds between datagrams (1)", [&](std::string_view v) {
        std::string s(v);
        char* end = nullptr;
        const double seconds = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != '\0' || !(seconds >= 0.001 && seconds <= 3600)) {
          return std::optional(
              tapir::OptionParser::expected("seconds from 0.001 to 3600 like 0.5", v));
        }
        settings.interval = std::chrono::milliseconds(std::llround(seconds * 1e3));
        return std::optional<std::string>();
      });
  const tapir::Options options = parser.parse_or_exit(argc, argv);
  if (settings.send_port.has_value() == settings.listen_port.has_value()) {
    std::fprintf(stderr,
                 "tapir-broadcast: expected one of --send PORT or --listen PORT (try --help)\n");
    return 2;
  }

  const sigset_t signals = SignalWatch::block();
  std::unique_ptr<tapir::Host> host;
  try {
    host = std::make_unique<tapir::Host>(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tapir-broadcast: %s\n", e.what());
    return 1;
  }
  host->start();

  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::fprintf(stderr, "tapir-broadcast: socket: %s\n", std::strerror(errno));
    return 1;
  }
  int result = 0;
  std::optional<std::string> failure;
  {
    SignalWatch watch(*host, fd, signals);
    result = settings.send_port ? send_broadcasts(fd, settings, watch)
                                : listen_for_broadcasts(fd, settings, watch, *host);
    failure = watch.failure();
  }

  tapir::close(fd);
  host->stop();
  if (options.stats) host->print_stats(std::cout);
  if (failure) {
    std::fprintf(stderr, "tapir-broadcast: %s\n", failure->c_str());
    return 1;
  }
  return result;
}
