// IPv4 fragmentation (RFC 791 §3.2, "fragmentation procedure"; Xinu's ipfsend).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "stack/core/packet.hpp"

namespace tapir::ip {

// Splits `datagram` (a whole, valid datagram: header with options + payload) into fragments no
// larger than `mtu` bytes. Each fragment's payload is a multiple of 8 bytes but the last;
// options whose copied flag is set go in every fragment, the others only in the first
// (RFC 791 §3.1 "Options"); MF, offsets and checksums are set. An already fragmented datagram
// (forwarding) keeps its offset base and a final MF. Returns no fragment when `mtu` cannot
// hold the header plus 8 bytes, or the datagram has DF set (callers check DF first). A datagram
// that already fits `mtu` comes back as one unchanged copy, DF or not.
std::vector<Packet> fragment(std::span<const std::uint8_t> datagram, std::size_t mtu);

}  // namespace tapir::ip
