// TransportError: an ICMP error about a datagram this host sent, as the transport that sent
// it hears of it (RFC 1122 §3.2.2, §4.1.3.3, §4.2.3.9), already turned into an errno.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "stack/core/address.hpp"
#include "stack/ip/ipv4_header.hpp"

namespace tapir::ip {

struct TransportError {
  Ipv4Address from;  // who sent the error (a router, or the destination itself)
  Repr original;     // the header of our datagram, as quoted
  std::span<const std::uint8_t> original_payload;  // at least its first 8 bytes
  int error = 0;  // the errno a socket user sees (ECONNREFUSED, EHOSTUNREACH, ...)
  // RFC 1122 §4.2.3.9's hard errors (Linux's "fatal" ones): reported even to a socket that
  // did not ask for every error.
  bool hard = false;
  // Fragmentation needed (RFC 1191): the next-hop MTU (0 when the router gave none).
  std::optional<std::uint32_t> next_mtu;
};

}  // namespace tapir::ip
