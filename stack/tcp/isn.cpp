// SipHash-2-4 and the RFC 6528 initial sequence numbers and timestamp offsets built on it.
#include "stack/tcp/isn.hpp"

#include <bit>

#include "stack/core/bytes.hpp"

namespace tapir::tcp {

namespace {

// SipHash reads its input as little-endian 64-bit words (the paper, §2).
std::uint64_t load64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  // One SipRound (the paper, §2, figure 2.1).
  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  // Compression: c = 2 rounds per message word.
  void absorb(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// What the hash input begins with, so the ISN and the timestamp offset of one 4-tuple, and the
// keys derived for other uses, are unrelated values although they share the key.
enum class Domain : std::uint8_t { isn = 1, timestamp_offset = 2, derived_key = 3 };

// The 4-tuple as bytes, in network order: the hash input must not depend on the host's
// endianness or on struct padding.
std::uint64_t hash_tuple(std::uint64_t key0, std::uint64_t key1, Domain domain, Ipv4Address local,
                         std::uint16_t local_port, Ipv4Address remote, std::uint16_t remote_port) {
  std::uint8_t in[13];
  in[0] = static_cast<std::uint8_t>(domain);
  store32(in + 1, local.value());
  store16(in + 5, local_port);
  store32(in + 7, remote.value());
  store16(in + 11, remote_port);
  return siphash24(key0, key1, in, sizeof in);
}

}  // namespace

std::uint64_t siphash24(std::uint64_t key0, std::uint64_t key1, const void* data,
                        std::size_t length) {
  // Initialization (the paper, §2): the key XORed with "somepseudorandomlygeneratedbytes".
  SipState s{key0 ^ 0x736f6d6570736575ULL, key1 ^ 0x646f72616e646f6dULL,
             key0 ^ 0x6c7967656e657261ULL, key1 ^ 0x7465646279746573ULL};
  const auto* in = static_cast<const std::uint8_t*>(data);
  const std::size_t whole = length - length % 8;
  for (std::size_t i = 0; i < whole; i += 8) s.absorb(load64_le(in + i));
  // The last word: the 0..7 remaining bytes, little-endian, with length mod 256 on top.
  std::uint64_t last = std::uint64_t{static_cast<std::uint8_t>(length)} << 56;
  for (std::size_t i = 0; i < length % 8; ++i) last |= std::uint64_t{in[whole + i]} << (8 * i);
  s.absorb(last);
  // Finalization: d = 4 rounds.
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

SeqNum IsnGenerator::isn(Ipv4Address local, std::uint16_t local_port, Ipv4Address remote,
                         std::uint16_t remote_port, Instant now) const {
  // RFC 6528 §3: M, a 4-microsecond timer (RFC 793's ISN clock), wrapping modulo 2^32.
  const auto m = static_cast<std::uint32_t>(now.micros() / 4);
  const auto f = static_cast<std::uint32_t>(
      hash_tuple(key0_, key1_, Domain::isn, local, local_port, remote, remote_port));
  return SeqNum{m} + f;
}

std::uint32_t IsnGenerator::timestamp_offset(Ipv4Address local, std::uint16_t local_port,
                                             Ipv4Address remote, std::uint16_t remote_port) const {
  return static_cast<std::uint32_t>(
      hash_tuple(key0_, key1_, Domain::timestamp_offset, local, local_port, remote, remote_port));
}

std::pair<std::uint64_t, std::uint64_t> IsnGenerator::derive_key(std::uint8_t purpose) const {
  std::uint8_t in[3] = {static_cast<std::uint8_t>(Domain::derived_key), purpose, 0};
  const std::uint64_t first = siphash24(key0_, key1_, in, sizeof in);
  in[2] = 1;
  return {first, siphash24(key0_, key1_, in, sizeof in)};
}

}  // namespace tapir::tcp
