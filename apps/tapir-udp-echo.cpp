// tapir-udp-echo: a UDP echo server (RFC 862) and a client that checks the echo, on tapir.
#include <unistd.h>

#include <algorithm>
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

constexpr const char* kProgram = "tapir-udp-echo";

// 65535 less the IPv4 (20) and UDP (8) headers: the most one datagram carries (RFC 768).
constexpr std::size_t kMaxDatagram = 65507;
// A reply line shows this much of the payload, then "...".
constexpr std::size_t kShownBytes = 64;

struct Settings {
  std::optional<std::uint16_t> server_port;  // --server
  std::optional<sockaddr_in> peer;           // --client
  std::optional<std::string> message;
  std::optional<std::size_t> size;
  std::optional<long> count;
  std::chrono::microseconds timeout{2000000};  // for each reply
};

// --- echo -------------------------------------------------------------------------------

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
int serve(int fd, const Settings& settings, tapir::Host& host, const tapir::StopSignals& stop) {
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(*settings.server_port);
  if (tapir::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    std::fprintf(stderr, "tapir-udp-echo: bind port %u: %s\n", *settings.server_port,
                 std::strerror(errno));
    return 1;
  }
  tapir::print_ready_line(host);

  long echoed = 0;
  std::vector<std::uint8_t> buffer(kMaxDatagram + 1);
  while (!settings.count || echoed < *settings.count) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = tapir::recvfrom(fd, buffer.data(), buffer.size(), 0,
                                      reinterpret_cast<sockaddr*>(&from), &from_len);
    if (stop.stopped()) break;
    if (n < 0) {
      std::fprintf(stderr, "tapir-udp-echo: recvfrom: %s\n", std::strerror(errno));
      return 1;
    }
    if (tapir::sendto(fd, buffer.data(), static_cast<std::size_t>(n), 0,
                      reinterpret_cast<sockaddr*>(&from), from_len) < 0) {
      std::fprintf(stderr, "tapir-udp-echo: sendto %s: %s\n", tapir::address_text(from).c_str(),
                   std::strerror(errno));
      continue;  // one peer's trouble does not stop the service
    }
    ++echoed;
    std::printf("echoed %zd bytes to %s\n", n, tapir::address_text(from).c_str());
    std::fflush(stdout);
  }
  return 0;
}

// Sends the payload --count times, one at a time, and checks each echo is byte-identical.
int client(int fd, const Settings& settings, const std::vector<std::uint8_t>& data,
           const tapir::StopSignals& stop) {
  // A connected UDP socket hears ICMP port unreachable as ECONNREFUSED (RFC 1122 §4.1.3.3)
  // and receives only from its peer.
  const sockaddr_in& peer = *settings.peer;
  const auto us = settings.timeout.count();
  const timeval timeout{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  if (tapir::connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) < 0 ||
      tapir::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0) {
    std::fprintf(stderr, "tapir-udp-echo: %s: %s\n", tapir::address_text(peer).c_str(),
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
    if (stop.stopped()) return 1;
    if (n < 0 && errno == EAGAIN) {
      std::fprintf(stderr, "tapir-udp-echo: no reply from %s within %ld.%03ld s\n",
                   tapir::address_text(peer).c_str(), static_cast<long>(timeout.tv_sec),
                   static_cast<long>(timeout.tv_usec / 1000));
      return 1;
    }
    if (n < 0) {
      std::fprintf(stderr, "tapir-udp-echo: recv: %s\n", std::strerror(errno));
      return 1;
    }
    reply.resize(static_cast<std::size_t>(n));
    std::printf("%zd bytes from %s: %s\n", n, tapir::address_text(peer).c_str(),
                tapir::printable(reply.data(), reply.size(), kShownBytes).c_str());
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

tapir::Options parse_command_line(int argc, char** argv, Settings& settings) {
  tapir::OptionParser parser(
      kProgram,
      "A UDP echo server (--server PORT), or a client (--client HOST:PORT) that sends --message,\n"
      "or stdin, and exits 1 unless every reply is byte-identical.");
  parser.add_option("--server", "PORT", "echo every datagram that comes to PORT back",
                    tapir::port_check([&](std::uint16_t port) { settings.server_port = port; }));
  parser.add_option(
      "--client", "HOST:PORT", "send to the echo server at HOST:PORT",
      tapir::address_port_check("an IPv4 address and port like 10.0.0.1:7",
                                [&](const sockaddr_in& peer) { settings.peer = peer; }));
  parser.add_option("--message", "TEXT", "client: the datagram to send (default: stdin)",
                    [&](std::string_view v) {
                      if (v.size() > kMaxDatagram) {
                        return std::optional<std::string>("expected at most 65507 bytes");
                      }
                      settings.message = std::string(v);
                      return std::optional<std::string>();
                    });
  parser.add_option("--size", "N", "client: send N bytes (the message repeated, or 0,1,2,...)",
                    tapir::integer_check(0, kMaxDatagram, "a size 0..65507", [&](long n) {
                      settings.size = static_cast<std::size_t>(n);
                    }));
  parser.add_option("--count", "N", "client: send N datagrams (1); server: stop after N",
                    tapir::count_check([&](long n) { settings.count = n; }));
  parser.add_option(
      "--timeout", "S", "client: seconds to wait for each reply (2)",
      tapir::seconds_check(0.001, 3600, "seconds from 0.001 to 3600 like 0.5",
                           [&](std::chrono::microseconds s) { settings.timeout = s; }));
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const tapir::Options options = parse_command_line(argc, argv, settings);
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

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;

  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::fprintf(stderr, "tapir-udp-echo: socket: %s\n", std::strerror(errno));
    return 1;
  }
  auto serve_or_send = [&](const tapir::StopSignals& stop) {
    return settings.server_port ? serve(fd, settings, *host, stop)
                                : client(fd, settings, data, stop);
  };
  return tapir::run_until_stopped(kProgram, *host, options, fd, serve_or_send);
}
