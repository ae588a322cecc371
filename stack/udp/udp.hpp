// UDP (RFC 768, RFC 1122 §4.1): demultiplexing to sockets, checksums, ports, output.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/packet.hpp"
#include "stack/icmp/icmp.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/socket/socket.hpp"

namespace tapir {

class Stack;

namespace udp {

inline constexpr std::size_t header_len = 8;
// 65535 less the IPv4 and UDP headers: the largest payload one datagram can carry.
inline constexpr std::size_t max_payload = 65507;

struct Repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t length = 0;
  std::uint16_t checksum = 0;
};

// The UDP/TCP pseudo-header sum (RFC 768, RFC 9293 §3.1) over `segment`.
std::uint16_t transport_checksum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                 std::span<const std::uint8_t> segment);

// RFC 6056 §3.3.1's first algorithm: a random start in the range, then the next free port.
struct PortRange {
  std::uint16_t first = 32768;  // Linux's net.ipv4.ip_local_port_range
  std::uint16_t last = 60999;
};

class Layer {
 public:
  Layer(Stack& stack, PortRange ephemeral);

  // udp_in
  void input(const ip::Delivery& delivery, Packet& payload);
  // An ICMP error quoting one of our datagrams (RFC 1122 §4.1.3.3).
  void error(const icmp::ErrorReport& report);

  // Binds `s` to addr:port (port 0 picks an ephemeral one). Returns 0 or a positive errno:
  // EADDRINUSE, EADDRNOTAVAIL, EINVAL (already bound).
  int bind(sock::Socket& s, Ipv4Address addr, std::uint16_t port);
  void unbind(sock::Socket& s);
  // Sends `data` from `s` to dst:port. Returns 0 or a positive errno.
  int send(sock::Socket& s, Ipv4Address dst, std::uint16_t port,
           std::span<const std::uint8_t> data);

  const PortRange& ephemeral_range() const { return ephemeral_; }
  std::size_t bound_ports() const { return by_port_.size(); }

 private:
  bool conflicts(const sock::Socket& s, Ipv4Address addr, std::uint16_t port) const;
  std::uint16_t pick_ephemeral(const sock::Socket& s, Ipv4Address addr);
  sock::Socket* lookup(const ip::Repr& ip, const Repr& udp) const;
  bool deliver(sock::Socket& s, const ip::Delivery& d, const Repr& udp,
               std::span<const std::uint8_t> data);

  Stack& stack_;
  PortRange ephemeral_;
  // Sockets bound to each local port, in bind order.
  std::unordered_map<std::uint16_t, std::vector<sock::Socket*>> by_port_;
};

}  // namespace udp
}  // namespace tapir
