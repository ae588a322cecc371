// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
#pragma once

#include <cstdint>
#include <span>

#include "stack/core/address.hpp"

namespace tapir {

// Adds `bytes` to a running 32-bit one's-complement sum (RFC 1071 §4.1). A partial sum over
// an odd-length span pads with a zero byte, so only the last span may be odd.
std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0);

// Folds a running sum to 16 bits and complements it: the value that goes on the wire.
std::uint16_t checksum_finish(std::uint32_t sum);

// The checksum of `bytes` alone.
inline std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) {
  return checksum_finish(checksum_add(bytes));
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit field changing from m to m'.
std::uint16_t checksum_update(std::uint16_t checksum, std::uint16_t old_field,
                              std::uint16_t new_field);

// The UDP/TCP checksum (RFC 768, RFC 9293 §3.1): `segment` summed with the pseudo-header of
// source, destination, protocol and length. Zero when a received segment checks.
std::uint16_t transport_checksum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                 std::span<const std::uint8_t> segment);

}  // namespace tapir
