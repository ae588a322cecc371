// libFuzzer harness: arbitrary frame sequences into a two-interface stack on a virtual clock.
//
// Input layout: byte 0 picks the configuration (bit 7: forwarding on), then records
// repeated until the data runs out:
//   byte 0: bit 0-1 interface, bit 2 fix IPv4 header checksum, bit 3 fix ICMP checksum,
//           bits 4-7 time to advance before the frame (in 250 ms steps, so timers fire:
//           ARP retries, reassembly timeouts, rate-limiter refill)
//   byte 1-2: frame length (big-endian), then that many bytes (fewer if the input ends).
// Fixing checksums on
// request lets the fuzzer reach reassembly, forwarding and ICMP instead of stopping at the
// checksum check.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/stack.hpp"

namespace {

using namespace tapir;

void fix_checksums(std::vector<std::uint8_t>& frame, bool ip_sum, bool icmp_sum) {
  if (frame.size() < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00) return;
  std::uint8_t* ip = frame.data() + 14;
  const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  if (ihl < 20 || 14 + ihl > frame.size()) return;
  if (ip_sum) {
    store16(ip + 10, 0);
    store16(ip + 10, internet_checksum({ip, ihl}));
  }
  const std::size_t total = std::min<std::size_t>(load16(ip + 2), frame.size() - 14);
  if (icmp_sum && ip[9] == 1 && total >= ihl + 8) {
    std::uint8_t* icmp = ip + ihl;
    store16(icmp + 2, 0);
    store16(icmp + 2, internet_checksum({icmp, total - ihl}));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  StackConfig config;
  config.forwarding = (data[0] & 0x80) != 0;
  Stack stack(config);
  Instant now = Instant::from_micros(1'000'000);
  std::size_t frames_out = 0;
  auto sink = [&frames_out](std::span<const std::uint8_t> frame) {
    // Every frame the stack emits must be a whole Ethernet frame.
    if (frame.size() < 60) __builtin_trap();
    ++frames_out;
  };
  stack.add_netif({"tap0", *MacAddress::parse("02:00:00:00:00:02"), 1500,
                   Ipv4Cidr::parse("10.0.0.2/24")},
                  sink, now);
  stack.add_netif({"tap1", *MacAddress::parse("02:00:00:00:01:02"), 576,
                   Ipv4Cidr::parse("10.0.1.2/24")},
                  sink, now);
  stack.set_default_gateway(*Ipv4Address::parse("10.0.0.1"));
  // A known neighbour, so replies leave at once rather than waiting on ARP.
  stack.arp().add_permanent(0, *Ipv4Address::parse("10.0.0.1"),
                            *MacAddress::parse("02:00:00:00:00:01"));

  std::size_t i = 1;
  std::vector<std::uint8_t> frame;
  while (i + 3 <= size) {
    const std::uint8_t control = data[i];
    const std::size_t len = load16(data + i + 1);
    i += 3;
    const std::size_t take = std::min(len, size - i);
    frame.assign(data + i, data + i + take);
    i += take;
    fix_checksums(frame, (control & 0x04) != 0, (control & 0x08) != 0);
    now += Duration{250'000} * (control >> 4);
    stack.receive(static_cast<NetifId>(control & 0x01), frame, now);
  }
  // Let every timer run out: reassembly and ARP state must drain without crashing.
  stack.advance(now + 3600s);
  return 0;
}
