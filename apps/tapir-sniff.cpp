// tapir-sniff: a tapir host that prints every frame in and out of its interfaces (libtins decodes).
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tins/tins.h>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

constexpr const char* kProgram = "tapir-sniff";

struct Settings {
  std::optional<long> count;  // -c
  int hex = 0;                // -x: 1 from the network header on, 2 (-xx) the whole frame
};

// --- decoding ---------------------------------------------------------------------------

// "12:00:00.123456", local time, as tcpdump prints it.
std::string timestamp() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm local{};
  localtime_r(&now.tv_sec, &local);
  char text[32];
  std::snprintf(text, sizeof text, "%02d:%02d:%02d.%06ld", local.tm_hour, local.tm_min,
                local.tm_sec, now.tv_nsec / 1000);
  return text;
}

std::string icmp_summary(const Tins::ICMP& icmp) {
  using Tins::ICMP;
  auto echo = [&icmp](const char* what) {
    return std::string("ICMP ") + what + ", id " + std::to_string(icmp.id()) + ", seq " +
           std::to_string(icmp.sequence());
  };
  switch (icmp.type()) {
    case ICMP::ECHO_REQUEST:
      return echo("echo request");
    case ICMP::ECHO_REPLY:
      return echo("echo reply");
    case ICMP::DEST_UNREACHABLE: {
      static const char* const why[] = {"net",  "host",         "protocol",
                                        "port", "need to frag", "source route failed"};
      const unsigned code = icmp.code();
      return std::string("ICMP ") +
             (code < std::size(why) ? why[code] : ("code " + std::to_string(code)).c_str()) +
             " unreachable";
    }
    case ICMP::TIME_EXCEEDED:
      return icmp.code() == 0 ? "ICMP time exceeded in-transit"
                              : "ICMP time exceeded in reassembly";
    case ICMP::PARAM_PROBLEM:
      return "ICMP parameter problem, pointer " + std::to_string(icmp.pointer());
    case ICMP::REDIRECT:
      return "ICMP redirect to " + icmp.gateway().to_string();
    case ICMP::TIMESTAMP_REQUEST:
      return "ICMP time stamp query, id " + std::to_string(icmp.id());
    case ICMP::TIMESTAMP_REPLY:
      return "ICMP time stamp reply, id " + std::to_string(icmp.id());
    default:
      return "ICMP type " + std::to_string(icmp.type()) + " code " + std::to_string(icmp.code());
  }
}

// tcpdump's flag letters: [S.] for SYN+ACK.
std::string tcp_flags(const Tins::TCP& tcp) {
  std::string f;
  if (tcp.get_flag(Tins::TCP::FIN)) f += 'F';
  if (tcp.get_flag(Tins::TCP::SYN)) f += 'S';
  if (tcp.get_flag(Tins::TCP::RST)) f += 'R';
  if (tcp.get_flag(Tins::TCP::PSH)) f += 'P';
  if (tcp.get_flag(Tins::TCP::URG)) f += 'U';
  if (tcp.get_flag(Tins::TCP::ACK)) f += '.';
  return f.empty() ? "none" : f;
}

// libtins leaves a fragmented datagram's payload raw; the first fragment still starts with the
// transport header (RFC 791: fragments after the first carry none), so decode it here.
std::unique_ptr<Tins::PDU> first_fragment_transport(const Tins::IP& ip) {
  const auto* raw = ip.find_pdu<Tins::RawPDU>();
  if (!raw) return nullptr;
  const auto& bytes = raw->payload();
  const auto size = static_cast<std::uint32_t>(bytes.size());
  switch (ip.protocol()) {
    case IPPROTO_ICMP:
      return std::make_unique<Tins::ICMP>(bytes.data(), size);
    case IPPROTO_UDP:
      return std::make_unique<Tins::UDP>(bytes.data(), size);
    case IPPROTO_TCP:
      return std::make_unique<Tins::TCP>(bytes.data(), size);
    default:
      return nullptr;
  }
}

std::string ip_summary(const Tins::IP& ip) {
  const std::string src = ip.src_addr().to_string();
  const std::string dst = ip.dst_addr().to_string();
  const bool more_fragments = (ip.flags() & Tins::IP::MORE_FRAGMENTS) != 0;
  if (ip.fragment_offset() != 0) {
    return "IP " + src + " > " + dst + ": fragment id " + std::to_string(ip.id()) + " offset " +
           std::to_string(ip.fragment_offset() * 8) + (more_fragments ? " (more)" : "");
  }
  std::unique_ptr<Tins::PDU> parsed;
  const Tins::PDU* transport = ip.inner_pdu();
  std::string first;
  if (more_fragments) {
    parsed = first_fragment_transport(ip);
    transport = parsed.get();
    first = " (first fragment, id " + std::to_string(ip.id()) + ")";
  }
  if (const auto* icmp = transport ? transport->find_pdu<Tins::ICMP>() : nullptr) {
    return "IP " + src + " > " + dst + ": " + icmp_summary(*icmp) + first;
  }
  if (const auto* udp = transport ? transport->find_pdu<Tins::UDP>() : nullptr) {
    return "IP " + src + "." + std::to_string(udp->sport()) + " > " + dst + "." +
           std::to_string(udp->dport()) + ": UDP " +
           std::to_string(udp->length() >= 8 ? udp->length() - 8 : 0) + " bytes" + first;
  }
  if (const auto* tcp = transport ? transport->find_pdu<Tins::TCP>() : nullptr) {
    return "IP " + src + "." + std::to_string(tcp->sport()) + " > " + dst + "." +
           std::to_string(tcp->dport()) + ": TCP [" + tcp_flags(*tcp) + "] seq " +
           std::to_string(tcp->seq()) + " ack " + std::to_string(tcp->ack_seq()) + " win " +
           std::to_string(tcp->window()) + first;
  }
  return "IP " + src + " > " + dst + ": protocol " + std::to_string(ip.protocol()) + first;
}

std::string arp_summary(const Tins::ARP& arp) {
  if (arp.opcode() == Tins::ARP::REQUEST) {
    return "ARP, Request who-has " + arp.target_ip_addr().to_string() + " tell " +
           arp.sender_ip_addr().to_string();
  }
  if (arp.opcode() == Tins::ARP::REPLY) {
    return "ARP, Reply " + arp.sender_ip_addr().to_string() + " is-at " +
           arp.sender_hw_addr().to_string();
  }
  return "ARP, opcode " + std::to_string(arp.opcode());
}

// One line per frame, tcpdump-like; a frame libtins cannot parse is named, not skipped.
std::string frame_summary(const std::uint8_t* frame, std::size_t len) {
  char ethertype[16];
  std::snprintf(ethertype, sizeof ethertype, "0x%04x", len >= 14 ? frame[12] << 8 | frame[13] : 0);
  try {
    const Tins::EthernetII eth(frame, static_cast<std::uint32_t>(len));
    if (const auto* ip = eth.find_pdu<Tins::IP>()) return ip_summary(*ip);
    if (const auto* arp = eth.find_pdu<Tins::ARP>()) return arp_summary(*arp);
    if (const auto* ip6 = eth.find_pdu<Tins::IPv6>()) {
      return "IP6 " + ip6->src_addr().to_string() + " > " + ip6->dst_addr().to_string() +
             ": next header " + std::to_string(ip6->next_header());
    }
    return eth.src_addr().to_string() + " > " + eth.dst_addr().to_string() + ", ethertype " +
           ethertype;
  } catch (const Tins::exception_base& e) {
    return std::string("malformed frame, ethertype ") + ethertype + " (" + e.what() + ")";
  }
}

// The classic dump: offset, 16 bytes in hex (a gap after 8), then the same bytes as ASCII.
void print_hex(const std::uint8_t* data, std::size_t len) {
  for (std::size_t line = 0; line < len; line += 16) {
    std::printf("%04zx  ", line);
    for (std::size_t i = line; i < line + 16; ++i) {
      if (i < len) {
        std::printf("%02x ", data[i]);
      } else {
        std::printf("   ");
      }
      if (i == line + 7) std::printf(" ");
    }
    std::printf(" ");
    for (std::size_t i = line; i < line + 16 && i < len; ++i) {
      std::putchar(data[i] >= 0x20 && data[i] < 0x7f ? data[i] : '.');
    }
    std::printf("\n");
  }
}

const char* direction(std::uint8_t pkttype) {
  switch (pkttype) {
    case PACKET_OUTGOING:
      return "out";
    case PACKET_HOST:
    case PACKET_BROADCAST:
    case PACKET_MULTICAST:
      return "in";
    default:
      return "in (not for us)";  // PACKET_OTHERHOST: someone else's unicast
  }
}

// Prints every frame the packet socket `fd` gets, one line each (and the bytes with -x), until
// --count or a stop signal.
int print_frames(int fd, const Settings& settings,
                 const std::vector<tapir::InterfaceInfo>& interfaces,
                 const tapir::StopSignals& stop) {
  std::vector<std::uint8_t> frame(65536 + ETH_HLEN);
  for (long seen = 0; !settings.count || seen < *settings.count; ++seen) {
    sockaddr_ll from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = tapir::recvfrom(fd, frame.data(), frame.size(), 0,
                                      reinterpret_cast<sockaddr*>(&from), &from_len);
    if (stop.stopped() || n == 0) break;
    if (n < 0) {
      std::fprintf(stderr, "tapir-sniff: recvfrom: %s\n", std::strerror(errno));
      return 1;
    }
    const auto len = static_cast<std::size_t>(n);
    const std::size_t index = static_cast<std::size_t>(from.sll_ifindex);  // 1-based
    const std::string name = index >= 1 && index <= interfaces.size()
                                 ? interfaces[index - 1].name
                                 : "if" + std::to_string(index);
    std::printf("%s %s %s %s, length %zu\n", timestamp().c_str(), name.c_str(),
                direction(from.sll_pkttype), frame_summary(frame.data(), len).c_str(), len);
    if (settings.hex > 0) {
      const std::size_t skip = settings.hex == 1 && len >= ETH_HLEN ? ETH_HLEN : 0;
      print_hex(frame.data() + skip, len - skip);
    }
    std::fflush(stdout);
  }
  return 0;
}

tapir::Options parse_command_line(int argc, char** argv, Settings& settings) {
  tapir::OptionParser parser(
      kProgram,
      "Runs a tapir host (it answers ARP and ping, as tapird) and prints every frame in and out\n"
      "of its interfaces, one decoded line each. Short forms: -c N, -x, -xx.");
  parser.add_option("-c, --count", "N", "stop after N frames",
                    tapir::count_check([&](long n) { settings.count = n; }));
  parser.add_flag("-x, --hex", "also dump each frame from its network header, hex and ASCII",
                  [&] { settings.hex = std::max(settings.hex, 1); });
  parser.add_flag("-xx, --hex-all", "the same from the Ethernet header", [&] { settings.hex = 2; });
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const tapir::Options options = parse_command_line(argc, argv, settings);

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;

  // packet(7): every frame of every protocol, in and out, with sockaddr_ll telling where.
  const int fd = tapir::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) {
    std::fprintf(stderr, "tapir-sniff: socket: %s\n", std::strerror(errno));
    return 1;
  }
  const std::vector<tapir::InterfaceInfo> interfaces = host->interfaces();
  tapir::print_ready_line(*host);
  return tapir::run_until_stopped(
      kProgram, *host, options, fd,
      [&](const tapir::StopSignals& stop) { return print_frames(fd, settings, interfaces, stop); });
}
