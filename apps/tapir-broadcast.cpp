// tapir-broadcast: sends UDP broadcasts (limited or subnet-directed) or listens for them, on tapir.
#include <arpa/inet.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "tapir-broadcast";

struct Settings {
  std::optional<std::uint16_t> send_port;    // --send
  std::optional<std::uint16_t> listen_port;  // --listen
  in_addr to{htonl(INADDR_BROADCAST)};       // RFC 919: 255.255.255.255, this network only
  std::string message = "hello world";
  std::optional<long> count;
  std::chrono::microseconds interval{1000000};
};

// --- broadcast --------------------------------------------------------------------------

// Sends --message --count times (1), --interval apart. RFC 1122 §3.3.6 / RFC 919: a host
// sends broadcasts only when asked to; as on Linux, that is the SO_BROADCAST option.
int send_broadcasts(int fd, const Settings& settings, const tapir::StopSignals& stop) {
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
      tapir::sleep_until(fd, next);
    }
    if (stop.stopped()) break;
    if (tapir::sendto(fd, settings.message.data(), settings.message.size(), 0,
                      reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      std::fprintf(stderr, "tapir-broadcast: sendto %s: %s\n", tapir::address_text(to).c_str(),
                   std::strerror(errno));
      return 1;
    }
    std::printf("sent %zu bytes to %s\n", settings.message.size(), tapir::address_text(to).c_str());
    std::fflush(stdout);
  }
  return 0;
}

// Prints every datagram to the port: a socket bound to INADDR_ANY receives unicast, limited
// (255.255.255.255) and subnet-directed broadcasts alike (RFC 1122 §3.3.6).
int listen_for_broadcasts(int fd, const Settings& settings, const tapir::StopSignals& stop,
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
  tapir::print_ready_line(host);

  std::vector<std::uint8_t> buffer(65536);
  for (long received = 0; !settings.count || received < *settings.count; ++received) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = tapir::recvfrom(fd, buffer.data(), buffer.size(), 0,
                                      reinterpret_cast<sockaddr*>(&from), &from_len);
    if (stop.stopped()) break;
    if (n < 0) {
      std::fprintf(stderr, "tapir-broadcast: recvfrom: %s\n", std::strerror(errno));
      return 1;
    }
    std::printf("from %s %zd bytes: %s\n", tapir::address_text(from).c_str(), n,
                tapir::printable(buffer.data(), static_cast<std::size_t>(n)).c_str());
    std::fflush(stdout);
  }
  return 0;
}

tapir::Options parse_command_line(int argc, char** argv, Settings& settings) {
  tapir::OptionParser parser(
      kProgram,
      "Sends UDP broadcasts (--send PORT, to 255.255.255.255 or --to a subnet broadcast such as\n"
      "10.0.0.255) or prints the datagrams that come to a port (--listen PORT).");
  parser.add_option("--send", "PORT", "broadcast --message to PORT",
                    tapir::port_check([&](std::uint16_t port) { settings.send_port = port; }));
  parser.add_option("--listen", "PORT", "print each datagram that comes to PORT",
                    tapir::port_check([&](std::uint16_t port) { settings.listen_port = port; }));
  parser.add_option(
      "--to", "ADDR", "send: destination (255.255.255.255)",
      tapir::address_check("an IPv4 address like 10.0.0.255", [&](in_addr a) { settings.to = a; }));
  parser.add_option("--message", "TEXT", "send: the datagram's text (\"hello world\")",
                    [&](std::string_view v) {
                      if (v.size() > 65507) {
                        return std::optional<std::string>("expected at most 65507 bytes");
                      }
                      settings.message = std::string(v);
                      return std::optional<std::string>();
                    });
  parser.add_option("--count", "N", "send: N datagrams (1); listen: stop after N (never)",
                    tapir::count_check([&](long n) { settings.count = n; }));
  parser.add_option(
      "--interval", "S", "send: seconds between datagrams (1)",
      tapir::seconds_check(0.001, 3600, "seconds from 0.001 to 3600 like 0.5",
                           [&](std::chrono::microseconds s) { settings.interval = s; }));
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const tapir::Options options = parse_command_line(argc, argv, settings);
  if (settings.send_port.has_value() == settings.listen_port.has_value()) {
    std::fprintf(stderr,
                 "tapir-broadcast: expected one of --send PORT or --listen PORT (try --help)\n");
    return 2;
  }

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;

  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::fprintf(stderr, "tapir-broadcast: socket: %s\n", std::strerror(errno));
    return 1;
  }
  auto send_or_listen = [&](const tapir::StopSignals& stop) {
    return settings.send_port ? send_broadcasts(fd, settings, stop)
                              : listen_for_broadcasts(fd, settings, stop, *host);
  };
  return tapir::run_until_stopped(kProgram, *host, options, fd, send_or_listen);
}
