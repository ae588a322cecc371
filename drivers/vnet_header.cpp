#include "drivers/vnet_header.hpp"

#include <cstring>

namespace tapir {
namespace {

// The values and layout of <linux/virtio_net.h>, which cannot be included from C++ (it has a
// member named `class`).
constexpr std::uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
constexpr std::uint8_t VIRTIO_NET_HDR_F_DATA_VALID = 2;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_UDP = 3;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;

struct virtio_net_hdr {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;
  std::uint16_t gso_size;
  std::uint16_t csum_start;
  std::uint16_t csum_offset;
};
static_assert(sizeof(virtio_net_hdr) == vnet_header_size);

}  // namespace

std::optional<VnetHeader> parse_vnet_header(std::span<const std::uint8_t> frame,
                                            VnetCounters& counters) {
  if (frame.size() < vnet_header_size) {
    ++counters.short_frame;
    return std::nullopt;
  }
  // A TAP device without TUNSETVNETLE/BE uses the host's byte order (legacy virtio).
  virtio_net_hdr raw;
  std::memcpy(&raw, frame.data(), sizeof raw);
  const std::size_t packet = frame.size() - vnet_header_size;
  constexpr std::uint8_t known_flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
  if ((raw.flags & ~known_flags) != 0) {
    ++counters.bad_flags;
    return std::nullopt;
  }
  VnetHeader h;
  h.needs_csum = (raw.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
  h.data_valid = (raw.flags & VIRTIO_NET_HDR_F_DATA_VALID) != 0;
  h.ecn = (raw.gso_type & VIRTIO_NET_HDR_GSO_ECN) != 0;
  h.hdr_len = raw.hdr_len;
  h.gso_size = raw.gso_size;
  h.csum_start = raw.csum_start;
  h.csum_offset = raw.csum_offset;
  switch (raw.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
      h.gso = GsoType::none;
      break;
    case VIRTIO_NET_HDR_GSO_TCPV4:
      h.gso = GsoType::tcpv4;
      break;
    case VIRTIO_NET_HDR_GSO_UDP:
      h.gso = GsoType::udp;
      break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
      h.gso = GsoType::tcpv6;
      break;
    default:
      ++counters.bad_gso_type;
      return std::nullopt;
  }
  if (h.gso == GsoType::none && h.ecn) {
    ++counters.bad_gso_type;
    return std::nullopt;
  }
  // The partial checksum's 16-bit field must lie inside the frame (virtio 1.2 §5.1.6.2.1).
  if (h.needs_csum && std::size_t{h.csum_start} + h.csum_offset + 2 > packet) {
    ++counters.bad_csum;
    return std::nullopt;
  }
  if (h.gso != GsoType::none) {
    // A GSO frame carries headers of hdr_len bytes, then payload cut into gso_size pieces;
    // it must be checksummed by the receiver's segmentation, so NEEDS_CSUM is required.
    if (!h.needs_csum) {
      ++counters.bad_csum;
      return std::nullopt;
    }
    if (h.hdr_len == 0 || h.hdr_len > packet) {
      ++counters.bad_hdr_len;
      return std::nullopt;
    }
    if (h.gso_size == 0 || h.gso_size > packet - h.hdr_len) {
      ++counters.bad_gso_size;
      return std::nullopt;
    }
    ++counters.gso_frames;
  }
  return h;
}

void emit_vnet_header(const VnetHeader& h, std::span<std::uint8_t, vnet_header_size> out) {
  virtio_net_hdr raw{};
  raw.flags = static_cast<std::uint8_t>((h.needs_csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0) |
                                        (h.data_valid ? VIRTIO_NET_HDR_F_DATA_VALID : 0));
  raw.gso_type = static_cast<std::uint8_t>(static_cast<std::uint8_t>(h.gso) |
                                           (h.ecn ? VIRTIO_NET_HDR_GSO_ECN : 0));
  raw.hdr_len = h.hdr_len;
  raw.gso_size = h.gso_size;
  raw.csum_start = h.csum_start;
  raw.csum_offset = h.csum_offset;
  std::memcpy(out.data(), &raw, sizeof raw);
}

}  // namespace tapir
