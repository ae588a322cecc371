// libFuzzer harness: arbitrary frame sequences into a two-interface stack on a virtual clock.
//
// Input layout: byte 0 picks the configuration (bit 7: forwarding on), then records
// repeated until the data runs out:
//   byte 0: bit 0 interface, bit 1 fix TCP checksum, bit 2 fix IPv4 header checksum,
//           bit 3 fix ICMP checksum,
//           bits 4-7 time to advance before the frame (in 250 ms steps, so timers fire:
//           ARP retries, reassembly timeouts, rate-limiter refill)
//   byte 1-2: frame length (big-endian), then that many bytes (fewer if the input ends).
// Fixing checksums on
// request lets the fuzzer reach reassembly, forwarding and ICMP instead of stopping at the
// checksum check.
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/stack.hpp"
#include "stack/udp/udp.hpp"

namespace {

using namespace tapir;

void fix_checksums(std::vector<std::uint8_t>& frame, bool ip_sum, bool icmp_sum, bool tcp_sum) {
  if (frame.size() < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00) return;
  std::uint8_t* ip = frame.data() + 14;
  const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  if (ihl < 20 || 14 + ihl > frame.size()) return;
  if (ip_sum) {
    store16(ip + 10, 0);
    store16(ip + 10, internet_checksum({ip, ihl}));
  }
  const std::size_t total = std::min<std::size_t>(load16(ip + 2), frame.size() - 14);
  if (tcp_sum && ip[9] == 6 && total >= ihl + 20) {
    std::uint8_t* tcp = ip + ihl;
    store16(tcp + 16, 0);
    store16(tcp + 16, transport_checksum(Ipv4Address{load32(ip + 12)}, Ipv4Address{load32(ip + 16)},
                                         6, {tcp, total - ihl}));
  }
  if (icmp_sum && ip[9] == 1 && total >= ihl + 8) {
    std::uint8_t* icmp = ip + ihl;
    store16(icmp + 2, 0);
    store16(icmp + 2, internet_checksum({icmp, total - ihl}));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  StackConfig config;
  config.forwarding = (data[0] & 0x80) != 0;
  Stack stack(config);
  Instant now = Instant::from_micros(1'000'000);
  std::size_t frames_out = 0;
  auto sink = [&frames_out](std::span<const std::uint8_t> frame) {
    // Every frame the stack emits must be a whole Ethernet frame.
    if (frame.size() < 60) __builtin_trap();
    ++frames_out;
  };
  stack.add_netif(
      {"tap0", *MacAddress::parse("02:00:00:00:00:02"), 1500, Ipv4Cidr::parse("10.0.0.2/24")}, sink,
      now);
  stack.add_netif(
      {"tap1", *MacAddress::parse("02:00:00:00:01:02"), 576, Ipv4Cidr::parse("10.0.1.2/24")}, sink,
      now);
  stack.set_default_gateway(*Ipv4Address::parse("10.0.0.1"));
  // A known neighbour, so replies leave at once rather than waiting on ARP.
  stack.arp().add_permanent(0, *Ipv4Address::parse("10.0.0.1"),
                            *MacAddress::parse("02:00:00:00:00:01"));
  // Sockets open, so datagrams reach every delivery path: a UDP socket on port 7 joined to
  // 239.1.2.3 with a source filter, a raw ICMP socket and a capture socket.
  sock::Api& api = stack.sockets();
  const int udp = api.socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in port7{};
  port7.sin_family = AF_INET;
  port7.sin_port = htons(7);
  api.bind(udp, reinterpret_cast<const sockaddr*>(&port7), sizeof port7);
  ip_mreq_source join{};
  join.imr_multiaddr.s_addr = htonl(Ipv4Address(239, 1, 2, 3).value());
  join.imr_sourceaddr.s_addr = htonl(Ipv4Address(10, 0, 0, 1).value());
  join.imr_interface.s_addr = htonl(Ipv4Address(10, 0, 0, 2).value());
  api.setsockopt(udp, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &join, sizeof join);
  api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  api.socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  // TCP: a listener on port 80 (its accepted connections read below) and a connection of
  // our own opening toward 10.0.0.1:80, so every state can be reached.
  const int listener = api.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in port80{};
  port80.sin_family = AF_INET;
  port80.sin_port = htons(80);
  api.bind(listener, reinterpret_cast<const sockaddr*>(&port80), sizeof port80);
  api.listen(listener, 4);
  const int client = api.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in peer80 = port80;
  peer80.sin_addr.s_addr = htonl(Ipv4Address(10, 0, 0, 1).value());
  api.connect(client, reinterpret_cast<const sockaddr*>(&peer80), sizeof peer80);
  std::vector<int> accepted;
  std::uint8_t buffer[2048];

  std::size_t i = 1;
  std::vector<std::uint8_t> frame;
  while (i + 3 <= size) {
    const std::uint8_t control = data[i];
    const std::size_t len = load16(data + i + 1);
    i += 3;
    const std::size_t take = std::min(len, size - i);
    frame.assign(data + i, data + i + take);
    i += take;
    fix_checksums(frame, (control & 0x04) != 0, (control & 0x08) != 0, (control & 0x02) != 0);
    now += Duration{250'000} * (control >> 4);
    stack.receive(static_cast<NetifId>(control & 0x01), frame, now);
    // The application side: accept, read, answer, as a server would.
    for (int fd; (fd = api.accept(listener, nullptr, nullptr)) >= 0;) accepted.push_back(fd);
    for (const int fd : accepted) {
      if (api.recvfrom(fd, buffer, sizeof buffer, 0, nullptr, nullptr) > 0) {
        api.sendto(fd, buffer, 16, MSG_OOB, nullptr, 0);
      }
    }
    api.sendto(client, buffer, sizeof buffer, 0, nullptr, 0);
  }
  for (const int fd : accepted) api.close(fd);
  api.close(client);
  // Let every timer run out: reassembly and ARP state must drain without crashing.
  stack.advance(now + 3600s);
  return 0;
}
