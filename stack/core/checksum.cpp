// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
#include "stack/core/checksum.hpp"

namespace tapir {

std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
  // Accumulate in 64 bits so no carry is lost, then fold back (RFC 1071 §4.1 "deferred carries").
  std::uint64_t acc = sum;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) acc += (std::uint32_t{bytes[i]} << 8) | bytes[i + 1];
  if (i < bytes.size()) acc += std::uint32_t{bytes[i]} << 8;
  while (acc >> 32) acc = (acc & 0xffffffffU) + (acc >> 32);
  return static_cast<std::uint32_t>(acc);
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

}  // namespace tapir
