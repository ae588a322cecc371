// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
#include "stack/core/checksum.hpp"

#include <bit>
#include <cstring>

#include "stack/core/bytes.hpp"

namespace tapir {

std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
  // RFC 1071 §2(B) and §4.1: the sum may be taken over words in the machine's own byte order,
  // eight bytes at a time with the carries deferred into 64 bits, and swapped once at the end;
  // this is the hot loop of every TCP segment in and out.
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t acc = 0;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, 8);
    acc += (word & 0xffffffffU) + (word >> 32);
  }
  if (n >= 4) {
    std::uint32_t word = 0;
    std::memcpy(&word, p, 4);
    acc += word;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    std::uint16_t word = 0;
    std::memcpy(&word, p, 2);
    acc += word;
    p += 2;
    n -= 2;
  }
  while (acc >> 16) acc = (acc & 0xffffU) + (acc >> 16);
  auto folded = static_cast<std::uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  }
  std::uint64_t total = std::uint64_t{sum} + folded;
  if (n == 1) total += std::uint32_t{*p} << 8;  // an odd last byte, padded with zero
  while (total >> 32) total = (total & 0xffffffffU) + (total >> 32);
  return static_cast<std::uint32_t>(total);
}

std::uint16_t checksum_finish(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffffU) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::uint16_t checksum_update(std::uint16_t checksum, std::uint16_t old_field,
                              std::uint16_t new_field) {
  std::uint32_t sum = static_cast<std::uint16_t>(~checksum);
  sum += static_cast<std::uint16_t>(~old_field);
  sum += new_field;
  return checksum_finish(sum);
}

std::uint16_t transport_checksum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                 std::span<const std::uint8_t> segment) {
  std::uint8_t pseudo[12];
  store32(pseudo, src.value());
  store32(pseudo + 4, dst.value());
  pseudo[8] = 0;
  pseudo[9] = protocol;
  store16(pseudo + 10, static_cast<std::uint16_t>(segment.size()));
  return checksum_finish(checksum_add(segment, checksum_add(pseudo)));
}

}  // namespace tapir
