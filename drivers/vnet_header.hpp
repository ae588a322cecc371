// VnetHeader: the struct virtio_net_hdr a TAP device opened with IFF_VNET_HDR puts before
// every frame (virtio 1.2 §5.1.6). Received headers are checked against the frame they
// describe and dropped when inconsistent, never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace tapir {

inline constexpr std::size_t vnet_header_size = 10;  // sizeof(struct virtio_net_hdr)

enum class GsoType : std::uint8_t { none = 0, tcpv4 = 1, udp = 3, tcpv6 = 4 };

struct VnetHeader {
  bool needs_csum = false;  // VIRTIO_NET_HDR_F_NEEDS_CSUM: csum_start/offset name a partial sum
  bool data_valid = false;  // VIRTIO_NET_HDR_F_DATA_VALID: the checksum was verified
  GsoType gso = GsoType::none;
  bool ecn = false;  // VIRTIO_NET_HDR_GSO_ECN
  std::uint16_t hdr_len = 0;
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;
};

struct VnetCounters {
  std::uint64_t short_frame = 0;
  std::uint64_t bad_flags = 0;
  std::uint64_t bad_gso_type = 0;
  std::uint64_t bad_gso_size = 0;
  std::uint64_t bad_hdr_len = 0;
  std::uint64_t bad_csum = 0;
  std::uint64_t gso_frames = 0;
};

// Parses the header at the start of `frame` and checks it against the `frame.size() - 10`
// bytes after it. Returns nothing (and counts why) when the header cannot be trusted.
std::optional<VnetHeader> parse_vnet_header(std::span<const std::uint8_t> frame,
                                            VnetCounters& counters);

// Writes `header` into the first vnet_header_size bytes of `out`.
void emit_vnet_header(const VnetHeader& header, std::span<std::uint8_t, vnet_header_size> out);

}  // namespace tapir
