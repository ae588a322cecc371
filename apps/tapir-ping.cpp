// tapir-ping: iputils-style ping (ICMP echo, RFC 792) from a tapir host over a raw ICMP socket.
#include <arpa/inet.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using tapir::wire::internet_checksum;
using tapir::wire::load16;
using tapir::wire::store16;

constexpr const char* kProgram = "tapir-ping";

// ICMP message types and codes (RFC 792).
constexpr std::uint8_t kEchoReply = 0;
constexpr std::uint8_t kDestUnreachable = 3;
constexpr std::uint8_t kSourceQuench = 4;
constexpr std::uint8_t kRedirect = 5;
constexpr std::uint8_t kEchoRequest = 8;
constexpr std::uint8_t kTimeExceeded = 11;
constexpr std::uint8_t kParameterProblem = 12;

constexpr std::size_t kIcmpHeader = 8;
constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kMaxData = 65535 - kIpHeader - kIcmpHeader;  // 65507, as iputils
constexpr std::size_t kStampLen = sizeof(timeval);  // iputils times replies only if it fits

struct Settings {
  long count = 0;  // 0: until interrupted
  microseconds interval{1000000};
  std::size_t size = 56;
  std::optional<int> ttl;
  std::optional<microseconds> timeout;  // -W: how long to wait for the last replies
  bool quiet = false;
  bool broadcast = false;  // -b
};

// --- ICMP -------------------------------------------------------------------------------

// An echo request as iputils builds it: data byte i is i, except that the first bytes carry
// the send time, which the echo reply returns unchanged (RFC 792: "the data received in the
// echo message must be returned in the echo reply").
std::vector<std::uint8_t> echo_request(std::uint16_t id, std::uint16_t seq, std::size_t size,
                                       Clock::time_point now) {
  std::vector<std::uint8_t> packet(kIcmpHeader + size);
  packet[0] = kEchoRequest;
  store16(&packet[4], id);
  store16(&packet[6], seq);
  for (std::size_t i = 0; i < size; ++i) packet[kIcmpHeader + i] = static_cast<std::uint8_t>(i);
  if (size >= kStampLen) {
    const auto us = std::chrono::duration_cast<microseconds>(now.time_since_epoch()).count();
    const timeval stamp{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
    std::memcpy(&packet[kIcmpHeader], &stamp, sizeof stamp);
  }
  store16(&packet[2], internet_checksum(packet.data(), packet.size()));
  return packet;
}

Clock::time_point stamp_of(const std::uint8_t* data) {
  timeval stamp{};
  std::memcpy(&stamp, data, sizeof stamp);
  return Clock::time_point(microseconds(std::int64_t{stamp.tv_sec} * 1000000 + stamp.tv_usec));
}

// iputils' wording of an ICMP error (its pr_icmph()).
std::string describe_error(std::uint8_t type, std::uint8_t code, const std::uint8_t* icmp) {
  static const char* const unreachable[] = {"Destination Net Unreachable",
                                            "Destination Host Unreachable",
                                            "Destination Protocol Unreachable",
                                            "Destination Port Unreachable",
                                            "Frag needed and DF set",
                                            "Source Route Failed",
                                            "Destination Net Unknown",
                                            "Destination Host Unknown",
                                            "Source Host Isolated",
                                            "Destination Net Prohibited",
                                            "Destination Host Prohibited",
                                            "Destination Net Unreachable for Type of Service",
                                            "Destination Host Unreachable for Type of Service",
                                            "Packet filtered",
                                            "Precedence Violation",
                                            "Precedence Cutoff"};
  switch (type) {
    case kDestUnreachable:
      if (code == 4) {
        // RFC 1191 §4: the next-hop MTU is in the low 16 bits of the unused word.
        return "Frag needed and DF set (mtu = " + std::to_string(load16(icmp + 6)) + ")";
      }
      if (code < std::size(unreachable)) return unreachable[code];
      return "Dest Unreachable, Bad Code: " + std::to_string(code);
    case kTimeExceeded:
      return code == 0 ? "Time to live exceeded" : "Frag reassembly time exceeded";
    case kParameterProblem:
      return "Parameter problem: pointer = " + std::to_string(icmp[4]);
    case kSourceQuench:
      return "Source Quench";
    case kRedirect: {
      char gateway[INET_ADDRSTRLEN] = "";
      inet_ntop(AF_INET, icmp + 4, gateway, sizeof gateway);
      return std::string(code == 1 ? "Redirect Host" : "Redirect Network") +
             "(New nexthop: " + gateway + ")";
    }
    default:
      return "Bad ICMP type: " + std::to_string(type);
  }
}

// iputils prints 3 significant digits: 0.123, 1.23, 12.3, 123.
std::string format_ms(double ms) {
  const int decimals = ms >= 99.95 ? 0 : ms >= 9.995 ? 1 : ms >= 1 ? 2 : 3;
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, ms);
  return text;
}

// --- the ping --------------------------------------------------------------------------

class Pinger {
 public:
  Pinger(int fd, in_addr dest, const Settings& settings)
      : fd_(fd), dest_(dest), settings_(settings), received_seq_(65536, false) {
    std::random_device entropy;
    // The identifier tells our replies from other pings' (RFC 792); random per run.
    id_ = static_cast<std::uint16_t>(entropy());
  }

  // Sends echo request number transmitted() + 1.
  void send(Clock::time_point now) {
    ++transmitted_;
    const auto seq = static_cast<std::uint16_t>(transmitted_);
    const auto packet = echo_request(id_, seq, settings_.size, now);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = dest_;
    received_seq_[seq] = false;
    if (tapir::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                      sizeof to) < 0) {
      std::fprintf(stderr, "tapir-ping: sendto: %s\n", std::strerror(errno));
      ++errors_;
    }
  }

  // Reads every datagram that is waiting; returns false when the socket was shut down.
  bool receive_all() {
    for (;;) {
      std::uint8_t datagram[65536];
      const ssize_t n = tapir::recv(fd_, datagram, sizeof datagram, MSG_DONTWAIT);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN;
      handle(datagram, static_cast<std::size_t>(n), Clock::now());
    }
  }

  bool all_answered() const {
    return settings_.count > 0 && received_ + errors_ >= settings_.count;
  }
  long transmitted() const { return transmitted_; }
  long received() const { return received_; }

  void print_summary(const std::string& dest, Clock::time_point start) const {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    std::printf("\n--- %s ping statistics ---\n", dest.c_str());
    std::printf("%ld packets transmitted, %ld received", transmitted_, received_);
    if (duplicates_) std::printf(", +%ld duplicates", duplicates_);
    if (corrupted_) std::printf(", +%ld corrupted", corrupted_);
    if (errors_) std::printf(", +%ld errors", errors_);
    if (transmitted_ > 0) {
      std::printf(", %g%% packet loss", 100.0 * static_cast<double>(transmitted_ - received_) /
                                            static_cast<double>(transmitted_));
    }
    std::printf(", time %lldms\n", static_cast<long long>(elapsed.count()));
    if (timed_ > 0) {
      const double avg = sum_ms_ / static_cast<double>(timed_);
      const double mdev =
          std::sqrt(std::max(0.0, sum2_ms_ / static_cast<double>(timed_) - avg * avg));
      std::printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", min_ms_, avg, max_ms_, mdev);
    }
  }

 private:
  // raw(7): a raw IPv4 socket receives the whole datagram, IP header first.
  void handle(const std::uint8_t* ip, std::size_t len, Clock::time_point now) {
    if (len < kIpHeader) return;
    const std::size_t header_len = (ip[0] & 0x0f) * 4u;
    if (header_len < kIpHeader || len < header_len + kIcmpHeader) return;
    char from[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, ip + 12, from, sizeof from);
    const std::uint8_t* icmp = ip + header_len;
    const std::size_t icmp_len = len - header_len;
    const std::uint8_t type = icmp[0];
    if (type == kEchoReply) {
      if (load16(icmp + 4) == id_) on_reply(from, ip[8], icmp, icmp_len, now);
    } else if (type == kDestUnreachable || type == kTimeExceeded || type == kParameterProblem ||
               type == kSourceQuench || type == kRedirect) {
      on_error(from, icmp, icmp_len);
    }
  }

  void on_reply(const char* from, int ttl, const std::uint8_t* icmp, std::size_t len,
                Clock::time_point now) {
    const std::uint16_t seq = load16(icmp + 6);
    const bool bad_checksum = internet_checksum(icmp, len) != 0;
    const bool duplicate = received_seq_[seq];
    const std::uint8_t* data = icmp + kIcmpHeader;
    const std::size_t data_len = len - kIcmpHeader;
    std::optional<double> rtt_ms;
    if (bad_checksum) {
      ++corrupted_;
    } else if (duplicate) {
      ++duplicates_;
    } else {
      ++received_;
      received_seq_[seq] = true;
    }
    if (!bad_checksum && settings_.size >= kStampLen && data_len >= kStampLen) {
      rtt_ms = std::chrono::duration<double, std::milli>(now - stamp_of(data)).count();
      if (!duplicate) record(*rtt_ms);
    }
    if (settings_.quiet) return;
    std::printf("%zu bytes from %s: icmp_seq=%u ttl=%d", len, from, seq, ttl);
    if (rtt_ms) std::printf(" time=%s ms", format_ms(*rtt_ms).c_str());
    if (duplicate) std::printf(" (DUP!)");
    if (bad_checksum) std::printf(" (BAD CHECKSUM!)");
    // RFC 792: the echo carries our data back; say where it came back different, as iputils.
    for (std::size_t i = kStampLen; i < data_len && !bad_checksum; ++i) {
      if (data[i] != static_cast<std::uint8_t>(i)) {
        std::printf("\nwrong data byte #%zu should be 0x%x but was 0x%x", i,
                    static_cast<unsigned>(i & 0xff), data[i]);
        break;
      }
    }
    std::printf("\n");
    std::fflush(stdout);
  }

  // RFC 792 / RFC 1122 §3.2.2: an ICMP error quotes the IP header and first 8 bytes of the
  // datagram that caused it; ours if it is an echo request with our identifier.
  void on_error(const char* from, const std::uint8_t* icmp, std::size_t len) {
    if (len < kIcmpHeader + kIpHeader) return;
    const std::uint8_t* quoted = icmp + kIcmpHeader;
    const std::size_t quoted_header = (quoted[0] & 0x0f) * 4u;
    if (quoted[9] != IPPROTO_ICMP || len < kIcmpHeader + quoted_header + kIcmpHeader) return;
    const std::uint8_t* echo = quoted + quoted_header;
    if (echo[0] != kEchoRequest || load16(echo + 4) != id_) return;
    ++errors_;
    if (settings_.quiet) return;
    std::printf("From %s icmp_seq=%u %s\n", from, load16(echo + 6),
                describe_error(icmp[0], icmp[1], icmp).c_str());
    std::fflush(stdout);
  }

  void record(double ms) {
    min_ms_ = timed_ == 0 ? ms : std::min(min_ms_, ms);
    max_ms_ = std::max(max_ms_, ms);
    sum_ms_ += ms;
    sum2_ms_ += ms * ms;
    ++timed_;
  }

  int fd_;
  in_addr dest_;
  Settings settings_;
  std::uint16_t id_ = 0;
  std::vector<bool> received_seq_;  // by icmp_seq, to tell duplicates
  long transmitted_ = 0;
  long received_ = 0;
  long duplicates_ = 0;
  long corrupted_ = 0;
  long errors_ = 0;
  long timed_ = 0;
  double min_ms_ = 0, max_ms_ = 0, sum_ms_ = 0, sum2_ms_ = 0;
};

// As iputils: a UDP socket connect()ed to DEST finds out before the first request whether
// there is a route (ENETUNREACH) and whether DEST is a broadcast address (EACCES without -b).
// The raw socket itself stays unconnected, so that routers' ICMP errors reach it.
int check_route(in_addr dest, bool broadcast) {
  const int probe = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (probe < 0) return errno;
  const int on = 1;
  if (broadcast) tapir::setsockopt(probe, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = dest;
  to.sin_port = htons(1025);
  const int err =
      tapir::connect(probe, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0 ? errno : 0;
  tapir::close(probe);
  return err;
}

// The raw ICMP socket to ping `dest` with, once a UDP probe has found a route to it; -1 after
// printing why.
int open_socket(in_addr dest, const Settings& settings) {
  if (int err = check_route(dest, settings.broadcast); err != 0) {
    if (err == EACCES) {
      std::fprintf(stderr,
                   "tapir-ping: Do you want to ping broadcast? Then -b. If not, check your "
                   "local firewall rules\n");
    } else {
      std::fprintf(stderr, "tapir-ping: connect: %s\n", std::strerror(err));
    }
    return -1;
  }
  const int fd = tapir::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) {
    std::fprintf(stderr, "tapir-ping: socket: %s\n", std::strerror(errno));
    return -1;
  }
  const int on = 1;
  if (settings.broadcast) tapir::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  if (settings.ttl &&
      tapir::setsockopt(fd, IPPROTO_IP, IP_TTL, &*settings.ttl, sizeof *settings.ttl) < 0) {
    std::fprintf(stderr, "tapir-ping: setsockopt IP_TTL: %s\n", std::strerror(errno));
    tapir::close(fd);
    return -1;
  }
  return fd;
}

// Sends the requests and reads the replies until --count is done (or a signal), then prints the
// summary. iputils' exit status: 0 if any reply came back, 1 if none.
int ping(int fd, in_addr dest, const Settings& settings, const tapir::StopSignals& stop) {
  Pinger pinger(fd, dest, settings);
  const Clock::time_point start = Clock::now();
  Clock::time_point next_send = start;
  // iputils waits 10 s (or -W) after the last request for the replies still out.
  const microseconds linger = settings.timeout.value_or(microseconds(10000000));
  Clock::time_point give_up = Clock::time_point::max();
  while (!stop.stopped()) {
    const bool more = settings.count == 0 || pinger.transmitted() < settings.count;
    if (more && Clock::now() >= next_send) {
      pinger.send(Clock::now());
      next_send += settings.interval;
      if (pinger.transmitted() == settings.count) give_up = Clock::now() + linger;
      continue;
    }
    if (pinger.all_answered() || Clock::now() >= give_up) break;
    pollfd pfd{fd, POLLIN, 0};
    if (tapir::poll(&pfd, 1, tapir::milliseconds_until(more ? next_send : give_up)) > 0 &&
        !pinger.receive_all()) {
      break;  // shut down by StopSignals
    }
  }
  // SIGINT ends the loop above, and the summary is printed all the same, as iputils does.
  pinger.print_summary(tapir::address_text(dest), start);
  return pinger.received() > 0 ? 0 : 1;
}

tapir::Options parse_command_line(int argc, char** argv, Settings& settings, in_addr& dest) {
  tapir::OptionParser parser(
      kProgram,
      "Sends ICMP echo requests to DEST from a tapir host and prints the replies, as iputils "
      "ping.\nDEST (an IPv4 address) goes anywhere among the flags: tapir-ping --tap tap0 --ip "
      "10.0.0.2/24 -c 3 10.0.0.1.\nShort forms: -c -i -s -t -W -q -b.");
  parser.add_option("-c, --count", "N", "stop after N echo requests",
                    tapir::count_check([&](long n) { settings.count = n; }));
  parser.add_option("-i, --interval", "S", "seconds between requests (1; fractions allowed)",
                    tapir::seconds_check(0.001, 3600, "seconds from 0.001 to 3600 like 0.2",
                                         [&](microseconds s) { settings.interval = s; }));
  parser.add_option("-s, --size", "N", "data bytes per request (56)",
                    tapir::integer_check(0, kMaxData, "a size from 0 to 65507", [&](long n) {
                      settings.size = static_cast<std::size_t>(n);
                    }));
  parser.add_option("-t, --ttl", "N", "IP time to live (64)",
                    tapir::integer_check(1, 255, "a TTL from 1 to 255",
                                         [&](long n) { settings.ttl = static_cast<int>(n); }));
  parser.add_option("-W, --timeout", "S", "seconds to wait for the last replies (10)",
                    tapir::seconds_check(0, 3600, "seconds from 0 to 3600 like 2",
                                         [&](microseconds s) { settings.timeout = s; }));
  parser.add_flag("-q, --quiet", "print only the first line and the summary",
                  [&] { settings.quiet = true; });
  parser.add_flag("-b, --broadcast", "allow DEST to be a broadcast address",
                  [&] { settings.broadcast = true; });
  parser.add_positional(
      "DEST", "the IPv4 address to ping",
      tapir::address_check("an IPv4 address like 10.0.0.1", [&](in_addr a) { dest = a; }));
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  in_addr dest{};
  const tapir::Options options = parse_command_line(argc, argv, settings, dest);

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 2;
  const int fd = open_socket(dest, settings);
  if (fd < 0) return 2;

  if (settings.broadcast) std::fprintf(stderr, "WARNING: pinging broadcast address\n");
  const std::string dest_text = tapir::address_text(dest);
  std::printf("PING %s (%s) %zu(%zu) bytes of data.\n", dest_text.c_str(), dest_text.c_str(),
              settings.size, settings.size + kIcmpHeader + kIpHeader);
  std::fflush(stdout);
  // A stop signal or a loop failure still gets the summary; the failure then exits 2.
  return tapir::run_until_stopped(
      kProgram, *host, options, fd,
      [&](const tapir::StopSignals& stop) { return ping(fd, dest, settings, stop); }, 2);
}
