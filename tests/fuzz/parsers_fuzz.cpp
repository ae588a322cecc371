// libFuzzer target: the wire parsers on their own — IPv4 header and options (RFC 791 §3.1),
// TCP header and options (RFC 9293 §3.1), IGMP messages incl. v3 reports (RFC 3376 §4), ARP
// (RFC 826).
//
// Input layout: byte 0 picks the parser (value % 4: IPv4, TCP, IGMP, ARP), the rest is the
// bytes handed to it. For TCP the checksum is fixed first, so the option walk is reached.
// Invariants (trap when broken): a successful parse never reports a length beyond its input;
// a parsed ARP packet emits back to the bytes it came from.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <variant>
#include <vector>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/igmp/message.hpp"
#include "stack/ip/ipv4_header.hpp"
#include "stack/link/arp.hpp"
#include "stack/tcp/segment.hpp"

namespace {

using namespace tapir;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void fuzz_ipv4(std::span<const std::uint8_t> bytes) {
  const auto result = ip::Repr::parse(bytes);
  if (const auto* repr = std::get_if<ip::Repr>(&result)) {
    check(repr->header_len >= ip::min_header_len && repr->header_len <= repr->total_len);
    check(repr->total_len <= bytes.size());
  }
}

void fuzz_tcp(std::span<const std::uint8_t> input) {
  std::vector<std::uint8_t> segment(input.begin(), input.end());
  const Ipv4Address src(10, 0, 0, 1);
  const Ipv4Address dst(10, 0, 0, 2);
  if (segment.size() >= 20) {
    store16(segment.data() + 16, 0);
    store16(segment.data() + 16, transport_checksum(src, dst, 6, segment));
  }
  const auto result = tcp::parse(segment, src, dst);
  if (result.parsed) {
    check(result.parsed->payload_offset >= 20 && result.parsed->payload_offset <= 60);
    check(result.parsed->payload_offset <= segment.size());
  }
}

void fuzz_igmp(std::span<const std::uint8_t> bytes) {
  const igmp::Message message = igmp::parse(bytes);
  if (bytes.size() < 8) check(std::holds_alternative<igmp::ParseError>(message));
}

void fuzz_arp(std::span<const std::uint8_t> bytes) {
  const auto repr = arp::Repr::parse(bytes);
  if (!repr) return;
  check(bytes.size() >= arp::packet_len);
  std::uint8_t out[arp::packet_len];
  repr->emit(out);
  check(std::memcmp(out, bytes.data(), arp::packet_len) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      fuzz_ipv4(bytes);
      break;
    case 1:
      fuzz_tcp(bytes);
      break;
    case 2:
      fuzz_igmp(bytes);
      break;
    default:
      fuzz_arp(bytes);
      break;
  }
  return 0;
}
