// tapir-traceroute: classic traceroute (UDP probes, or ICMP echo with -I) from a tapir host.
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
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

constexpr const char* kProgram = "tapir-traceroute";

// ICMP message types (RFC 792).
constexpr std::uint8_t kEchoReply = 0;
constexpr std::uint8_t kDestUnreachable = 3;
constexpr std::uint8_t kEchoRequest = 8;
constexpr std::uint8_t kTimeExceeded = 11;
constexpr std::uint8_t kPortUnreachable = 3;  // a code of kDestUnreachable

constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kProbeHeader = 8;  // UDP and ICMP echo headers are both 8 bytes
constexpr std::size_t kProbeData = 32;   // 60-byte probes, as Linux traceroute's default

struct Settings {
  bool icmp = false;           // -I
  int first_ttl = 1;           // -f
  int max_ttl = 30;            // -m
  int queries = 3;             // -q
  microseconds wait{3000000};  // -w
  std::uint16_t port = 33434;  // -p: the classic base port (Van Jacobson's traceroute)
};

// --- probes -----------------------------------------------------------------------------

struct Answer {
  in_addr from{};
  double ms = 0;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
};

struct Probe {
  Clock::time_point sent;
  std::optional<Answer> answer;
};

// What traceroute prints after the time of a probe the destination or a router refused
// (Linux traceroute's annotations); port unreachable from DEST is the expected end.
const char* annotation(const Answer& a) {
  if (a.type != kDestUnreachable) return "";
  switch (a.code) {
    case 0:
      return " !N";
    case 1:
      return " !H";
    case 2:
      return " !P";
    case kPortUnreachable:
      return "";
    case 4:
      return " !F";
    case 5:
      return " !S";
    case 9:
    case 10:
    case 13:
      return " !X";
    default:
      return " !<>";
  }
}

// One traceroute: the probes of each hop go out together and the hop's line is printed when
// every probe is answered or --wait has passed since they were sent.
class Tracer {
 public:
  Tracer(int icmp_fd, int udp_fd, std::uint16_t udp_port, in_addr dest, const Settings& settings)
      : icmp_fd_(icmp_fd), udp_fd_(udp_fd), udp_port_(udp_port), dest_(dest), settings_(settings) {
    std::random_device entropy;
    id_ = static_cast<std::uint16_t>(entropy());  // tells our echo requests from others'
  }

  // Sends the probes of hop `ttl`; false (after printing why) if the stack refused one.
  bool send_hop(int ttl) {
    hop_.assign(static_cast<std::size_t>(settings_.queries), Probe{});
    first_seq_ = next_seq_;
    const int fd = settings_.icmp ? icmp_fd_ : udp_fd_;
    if (tapir::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0) {
      std::fprintf(stderr, "tapir-traceroute: setsockopt IP_TTL: %s\n", std::strerror(errno));
      return false;
    }
    for (Probe& probe : hop_) {
      const std::uint16_t seq = next_seq_++;
      std::vector<std::uint8_t> packet;
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_addr = dest_;
      if (settings_.icmp) {
        packet.assign(kProbeHeader + kProbeData, 0);
        packet[0] = kEchoRequest;
        store16(&packet[4], id_);
        store16(&packet[6], seq);
        store16(&packet[2], internet_checksum(packet.data(), packet.size()));
      } else {
        // Each probe to its own port above the base, so the quoted UDP header says which
        // probe a router's answer is about (a port nobody is expected to listen on).
        packet.assign(kProbeData, 0);
        to.sin_port = htons(static_cast<std::uint16_t>(settings_.port + seq));
      }
      probe.sent = Clock::now();
      if (tapir::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                        sizeof to) < 0) {
        std::fprintf(stderr, "tapir-traceroute: sendto: %s\n", std::strerror(errno));
        return false;
      }
    }
    return true;
  }

  bool hop_answered() const {
    return std::all_of(hop_.begin(), hop_.end(), [](const Probe& p) { return p.answer; });
  }

  // Reads every ICMP datagram waiting; false when the socket was shut down.
  bool receive_all() {
    for (;;) {
      std::uint8_t datagram[65536];
      const ssize_t n = tapir::recv(icmp_fd_, datagram, sizeof datagram, MSG_DONTWAIT);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN;
      handle(datagram, static_cast<std::size_t>(n), Clock::now());
    }
  }

  struct HopResult {
    bool reached = false;  // DEST itself answered (echo reply, or port unreachable for UDP)
    bool over = false;     // reached, or a router said DEST is unreachable
  };

  // " 1  10.1.0.254  0.321 ms  0.210 ms  0.198 ms": an address is printed when it differs from
  // the previous probe's, "*" for a probe nobody answered.
  HopResult print_hop(int ttl) const {
    std::printf("%2d ", ttl);
    std::optional<in_addr_t> last;
    HopResult result;
    for (const Probe& probe : hop_) {
      if (!probe.answer) {
        std::printf(" *");
        continue;
      }
      const Answer& a = *probe.answer;
      if (last != a.from.s_addr) {
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a.from, text, sizeof text);
        std::printf(" %s", text);
        last = a.from.s_addr;
      }
      std::printf("  %.3f ms%s", a.ms, annotation(a));
      result.reached = result.reached || a.from.s_addr == dest_.s_addr;
      result.over = result.over || a.type == kEchoReply || a.type == kDestUnreachable;
    }
    std::printf("\n");
    std::fflush(stdout);
    return result;
  }

 private:
  // raw(7): a raw IPv4 socket receives the whole datagram, IP header first.
  void handle(const std::uint8_t* ip, std::size_t len, Clock::time_point now) {
    if (len < kIpHeader) return;
    const std::size_t header_len = (ip[0] & 0x0f) * 4u;
    if (header_len < kIpHeader || len < header_len + 8) return;
    const std::uint8_t* icmp = ip + header_len;
    const std::size_t icmp_len = len - header_len;
    Answer answer;
    std::memcpy(&answer.from, ip + 12, 4);
    answer.type = icmp[0];
    answer.code = icmp[1];

    std::optional<std::uint16_t> seq;
    if (answer.type == kEchoReply) {
      // RFC 792: the reply carries our identifier and sequence number back.
      if (settings_.icmp && load16(icmp + 4) == id_ && answer.from.s_addr == dest_.s_addr) {
        seq = load16(icmp + 6);
      }
    } else if (answer.type == kTimeExceeded || answer.type == kDestUnreachable) {
      seq = quoted_probe(icmp, icmp_len);
    }
    if (!seq) return;
    // Only the current hop's probes count: a late answer to an earlier hop is dropped.
    const std::uint16_t index = static_cast<std::uint16_t>(*seq - first_seq_);
    if (index >= hop_.size() || hop_[index].answer) return;
    answer.ms = std::chrono::duration<double, std::milli>(now - hop_[index].sent).count();
    hop_[index].answer = answer;
  }

  // RFC 792 / RFC 1122 §3.2.2: an ICMP error quotes the IP header and the first 8 bytes of the
  // datagram it is about: enough for the UDP ports, or the echo's identifier and sequence.
  std::optional<std::uint16_t> quoted_probe(const std::uint8_t* icmp, std::size_t len) const {
    if (len < 8 + kIpHeader) return std::nullopt;
    const std::uint8_t* quoted = icmp + 8;
    const std::size_t quoted_header = (quoted[0] & 0x0f) * 4u;
    if (len < 8 + quoted_header + 8 || std::memcmp(quoted + 16, &dest_, 4) != 0) {
      return std::nullopt;
    }
    const std::uint8_t* probe = quoted + quoted_header;
    if (settings_.icmp) {
      if (quoted[9] != IPPROTO_ICMP || probe[0] != kEchoRequest || load16(probe + 4) != id_) {
        return std::nullopt;
      }
      return load16(probe + 6);
    }
    if (quoted[9] != IPPROTO_UDP || load16(probe) != udp_port_) return std::nullopt;
    return static_cast<std::uint16_t>(load16(probe + 2) - settings_.port);
  }

  int icmp_fd_;
  int udp_fd_;
  std::uint16_t udp_port_;
  in_addr dest_;
  Settings settings_;
  std::uint16_t id_ = 0;
  std::uint16_t next_seq_ = 0;
  std::uint16_t first_seq_ = 0;  // of the current hop
  std::vector<Probe> hop_;
};

// A UDP socket for the probes, bound to an ephemeral port that the ICMP errors quote back.
int open_udp_probe_socket(std::uint16_t& port) {
  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return fd;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  socklen_t len = sizeof local;
  if (tapir::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0 ||
      tapir::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) {
    return -1;
  }
  port = ntohs(local.sin_port);
  return fd;
}

// Probes hop after hop, printing a line for each, until DEST or a router says it is reached
// (or --max-hops, or a signal). The exit status: 0 when DEST answered, else 1.
int trace(Tracer& tracer, int icmp_fd, const Settings& settings, const tapir::StopSignals& stop) {
  bool reached = false;
  for (int ttl = settings.first_ttl; ttl <= settings.max_ttl; ++ttl) {
    if (!tracer.send_hop(ttl)) return 1;
    const Clock::time_point give_up = Clock::now() + settings.wait;
    while (!tracer.hop_answered() && Clock::now() < give_up && !stop.stopped()) {
      pollfd pfd{icmp_fd, POLLIN, 0};
      if (tapir::poll(&pfd, 1, tapir::milliseconds_until(give_up)) > 0 && !tracer.receive_all()) {
        break;
      }
    }
    if (stop.stopped()) break;
    const Tracer::HopResult hop = tracer.print_hop(ttl);
    reached = hop.reached;
    if (hop.over) break;
  }
  return reached ? 0 : 1;
}

tapir::Options parse_command_line(int argc, char** argv, Settings& settings, in_addr& dest) {
  tapir::OptionParser parser(
      kProgram,
      "Prints the routers on the way to DEST from a tapir host: UDP probes to ports 33434 and up "
      "with TTL 1, 2, ... (or ICMP echo with -I), until DEST answers.\nDEST (an IPv4 address) "
      "goes anywhere among the flags: tapir-traceroute --tap tap0 --ip 10.0.0.2/24 --gw 10.0.0.1 "
      "10.2.0.1.\nShort forms: -I -f -m -q -w -p. Exit status 0 when DEST answered, else 1.");
  parser.add_flag("-I, --icmp", "probe with ICMP echo requests instead of UDP",
                  [&] { settings.icmp = true; });
  parser.add_option("-f, --first-hop", "N", "TTL of the first probes (1)",
                    tapir::integer_check(1, 255, "a TTL from 1 to 255", [&](long n) {
                      settings.first_ttl = static_cast<int>(n);
                    }));
  parser.add_option("-m, --max-hops", "N", "largest TTL to try (30)",
                    tapir::integer_check(1, 255, "a hop count from 1 to 255",
                                         [&](long n) { settings.max_ttl = static_cast<int>(n); }));
  parser.add_option("-q, --queries", "N", "probes per hop (3)",
                    tapir::integer_check(1, 10, "a probe count from 1 to 10",
                                         [&](long n) { settings.queries = static_cast<int>(n); }));
  parser.add_option("-w, --wait", "S", "seconds to wait for a hop's answers (3)",
                    tapir::seconds_check(0.01, 60, "seconds from 0.01 to 60 like 1.5",
                                         [&](microseconds s) { settings.wait = s; }));
  parser.add_option("-p, --port", "PORT", "base UDP port; probe n goes to PORT+n (33434)",
                    tapir::port_check([&](std::uint16_t port) { settings.port = port; }));
  parser.add_positional(
      "DEST", "the IPv4 address to trace",
      tapir::address_check("an IPv4 address like 10.0.0.1", [&](in_addr a) { dest = a; }));
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  in_addr dest{};
  const tapir::Options options = parse_command_line(argc, argv, settings, dest);
  if (settings.first_ttl > settings.max_ttl) {
    std::fprintf(stderr, "tapir-traceroute: --first-hop: %d is above --max-hops %d\n",
                 settings.first_ttl, settings.max_ttl);
    return 2;
  }

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 2;
  // Answers come back as ICMP whatever the probes are: time exceeded from each router, then
  // port unreachable (UDP) or an echo reply (-I) from DEST.
  const int icmp_fd = tapir::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  std::uint16_t udp_port = 0;
  const int udp_fd = settings.icmp ? -1 : open_udp_probe_socket(udp_port);
  if (icmp_fd < 0 || (!settings.icmp && udp_fd < 0)) {
    std::fprintf(stderr, "tapir-traceroute: socket: %s\n", std::strerror(errno));
    return 1;
  }

  const std::string dest_text = tapir::address_text(dest);
  std::printf("traceroute to %s (%s), %d hops max, %zu byte packets\n", dest_text.c_str(),
              dest_text.c_str(), settings.max_ttl, kIpHeader + kProbeHeader + kProbeData);
  std::fflush(stdout);

  Tracer tracer(icmp_fd, udp_fd, udp_port, dest, settings);
  int status = 1;
  tapir::run_until_stopped(kProgram, *host, options, icmp_fd, [&](const tapir::StopSignals& stop) {
    status = trace(tracer, icmp_fd, settings, stop);
    if (udp_fd >= 0) tapir::close(udp_fd);
    return status;
  });
  // Whether DEST answered, even if the Host's loop failed after it did (the failure is reported
  // all the same).
  return status;
}
