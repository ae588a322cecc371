// tapir-mcast-send: sends UDP datagrams to a multicast group (RFC 1112 §6) from tapir.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "tapir-mcast-send";

struct Settings {
  std::optional<in_addr> group;
  std::optional<std::uint16_t> port;
  std::optional<int> ttl;              // IP_MULTICAST_TTL; the socket's default is 1
  std::optional<in_addr> interface;    // IP_MULTICAST_IF
  std::optional<std::string> message;  // none: stdin
  long count = 1;
  std::chrono::microseconds interval{1000000};
  bool loop = true;  // IP_MULTICAST_LOOP
};

// The options a multicast sender sets (ip(7)): how far its datagrams go, which interface they
// leave by, and whether this host's own members get a copy.
bool set_multicast_options(int fd, const Settings& settings) {
  if (settings.ttl && tapir::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &*settings.ttl,
                                        sizeof *settings.ttl) < 0) {
    std::fprintf(stderr, "tapir-mcast-send: setsockopt IP_MULTICAST_TTL: %s\n",
                 std::strerror(errno));
    return false;
  }
  if (settings.interface && tapir::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &*settings.interface,
                                              sizeof(in_addr)) < 0) {
    std::fprintf(stderr, "tapir-mcast-send: setsockopt IP_MULTICAST_IF %s: %s\n",
                 tapir::address_text(*settings.interface).c_str(), std::strerror(errno));
    return false;
  }
  const int loop = settings.loop ? 1 : 0;
  if (tapir::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0) {
    std::fprintf(stderr, "tapir-mcast-send: setsockopt IP_MULTICAST_LOOP: %s\n",
                 std::strerror(errno));
    return false;
  }
  return true;
}

// Sets the sender's options, says it is ready, and sends the message --count times, --interval
// apart; a signal ends the wait at once.
int send_datagrams(int fd, const Settings& settings, const std::string& message, tapir::Host& host,
                   const tapir::StopSignals& stop) {
  if (!set_multicast_options(fd, settings)) return 1;
  tapir::print_ready_line(host);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = *settings.group;
  to.sin_port = htons(*settings.port);
  Clock::time_point next = Clock::now();
  for (long i = 0; i < settings.count; ++i) {
    if (i > 0) {
      // Sleep until the next send, but wake at once when a signal shuts the socket down.
      next += settings.interval;
      tapir::sleep_until(fd, next);
    }
    if (stop.stopped()) break;
    if (tapir::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&to),
                      sizeof to) < 0) {
      std::fprintf(stderr, "tapir-mcast-send: sendto %s: %s\n", tapir::address_text(to).c_str(),
                   std::strerror(errno));
      return 1;
    }
    std::printf("sent %zu bytes to %s\n", message.size(), tapir::address_text(to).c_str());
    std::fflush(stdout);
  }
  return 0;
}

tapir::Options parse_command_line(int argc, char** argv, Settings& settings) {
  tapir::OptionParser parser(
      kProgram,
      "Sends UDP datagrams to a multicast group: --message TEXT, or what stdin holds, --count\n"
      "times. Local members get a copy too unless --no-loop.");
  parser.add_option("--group", "GROUP", "the group to send to, 224.0.0.0 to 239.255.255.255",
                    tapir::group_check([&](in_addr group) { settings.group = group; }));
  parser.add_option("--port", "PORT", "the destination port",
                    tapir::port_check([&](std::uint16_t port) { settings.port = port; }));
  parser.add_option("--ttl", "N", "IP_MULTICAST_TTL: how many routers it may cross (1)",
                    tapir::integer_check(0, 255, "a TTL from 0 to 255",
                                         [&](long n) { settings.ttl = static_cast<int>(n); }));
  parser.add_option("--interface", "ADDR", "IP_MULTICAST_IF: leave by the interface with ADDR",
                    tapir::address_check("an IPv4 address like 10.0.0.2",
                                         [&](in_addr a) { settings.interface = a; }));
  parser.add_option("--message", "TEXT", "the datagram's text (default: read stdin)",
                    [&](std::string_view v) {
                      if (v.size() > 65507) {
                        return std::optional<std::string>("expected at most 65507 bytes");
                      }
                      settings.message = std::string(v);
                      return std::optional<std::string>();
                    });
  parser.add_option("--count", "N", "send N datagrams (1)",
                    tapir::count_check([&](long n) { settings.count = n; }));
  parser.add_option(
      "--interval", "S", "seconds between datagrams (1)",
      tapir::seconds_check(0.001, 3600, "seconds from 0.001 to 3600 like 0.5",
                           [&](std::chrono::microseconds s) { settings.interval = s; }));
  parser.add_flag("--no-loop", "IP_MULTICAST_LOOP off: this host's members get no copy",
                  [&] { settings.loop = false; });
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const tapir::Options options = parse_command_line(argc, argv, settings);
  if (!settings.group || !settings.port) {
    std::fprintf(stderr, "tapir-mcast-send: expected --group GROUP and --port PORT (try --help)\n");
    return 2;
  }
  std::string message;
  if (settings.message) {
    message = *settings.message;
  } else {
    message.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (message.size() > 65507) {
      std::fprintf(stderr, "tapir-mcast-send: stdin: expected at most 65507 bytes\n");
      return 2;
    }
  }

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;

  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::fprintf(stderr, "tapir-mcast-send: socket: %s\n", std::strerror(errno));
    return 1;
  }
  auto send = [&](const tapir::StopSignals& stop) {
    return send_datagrams(fd, settings, message, *host, stop);
  };
  return tapir::run_until_stopped(kProgram, *host, options, fd, send);
}
