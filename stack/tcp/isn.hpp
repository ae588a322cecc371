// Initial sequence numbers per RFC 6528 and per-connection timestamp offsets.
#pragma once

#include <cstdint>
#include <utility>

#include "stack/core/address.hpp"
#include "stack/core/time.hpp"
#include "stack/tcp/seq.hpp"

namespace tapir::tcp {

// SipHash-2-4 (Aumasson and Bernstein) of `length` bytes at `data` under a 128-bit key.
std::uint64_t siphash24(std::uint64_t key0, std::uint64_t key1, const void* data,
                        std::size_t length);

// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where M is a
// clock ticking every 4 microseconds and F a keyed hash (SipHash-2-4 here). An off-path
// attacker cannot predict another connection's ISN, yet a reopened 4-tuple's numbers keep
// rising with the clock, so old duplicates stay outside the new connection's window.
class IsnGenerator {
 public:
  IsnGenerator(std::uint64_t key0, std::uint64_t key1) : key0_(key0), key1_(key1) {}

  SeqNum isn(Ipv4Address local, std::uint16_t local_port, Ipv4Address remote,
             std::uint16_t remote_port, Instant now) const;
  // A per-connection random offset for TSval (as Linux since 4.10), from the same key with a
  // different input, so timestamps reveal neither uptime nor other connections' clocks.
  std::uint32_t timestamp_offset(Ipv4Address local, std::uint16_t local_port, Ipv4Address remote,
                                 std::uint16_t remote_port) const;
  // A key for another use of the same secret (SYN cookies, `purpose` naming the use): SipHash
  // of the purpose under this key, a PRF, so the stack draws no more randomness and what one
  // use reveals says nothing of the other's key.
  std::pair<std::uint64_t, std::uint64_t> derive_key(std::uint8_t purpose) const;

 private:
  std::uint64_t key0_;
  std::uint64_t key1_;
};

}  // namespace tapir::tcp
