// Local ports: RFC 6056's ephemeral range, and the one way tapir picks a port from it.
#pragma once

#include <cstdint>
#include <random>

#include "stack/core/address.hpp"

namespace tapir {

// The range ephemeral ports come from (Linux's net.ipv4.ip_local_port_range).
struct PortRange {
  std::uint16_t first = 32768;
  std::uint16_t last = 60999;

  std::uint32_t size() const { return std::uint32_t{last} - first + 1U; }
};

// A socket's addresses and ports as a transport sees them (RFC 9293 §3.3.1's "pair of
// sockets"): the local half once bound, the remote half once connected. The transports'
// endpoint types (udp::Endpoint, tcp::Endpoint) are Bindings; their port tables point at them.
struct Binding {
  Ipv4Address local_addr;
  std::uint16_t local_port = 0;
  bool bound = false;
  Ipv4Address peer_addr;
  std::uint16_t peer_port = 0;
  bool connected = false;
  bool reuse_addr = false;  // SO_REUSEADDR: the port may be shared (each transport's rule)
};

// RFC 6056 §3.3.1, Algorithm 1: a random starting point, then the next port `usable` accepts.
// Returns 0 when every port of the range is taken.
template <typename Usable>
std::uint16_t pick_ephemeral_port(const PortRange& range, std::mt19937_64& random,
                                  Usable&& usable) {
  const std::uint32_t count = range.size();
  const auto start = static_cast<std::uint32_t>(random() % count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto port = static_cast<std::uint16_t>(range.first + (start + i) % count);
    if (usable(port)) return port;
  }
  return 0;
}

}  // namespace tapir
