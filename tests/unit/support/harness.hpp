// A stack on a virtual clock with capture-only interfaces, plus libtins frame builders: the
// fixture every layer test uses to inject frames and read what the stack sends.
#pragma once

#include <tins/tins.h>

#include <cstdint>
#include <string>
#include <vector>

#include "stack/stack.hpp"

namespace tapir::test {

inline const MacAddress kHostMac = *MacAddress::parse("02:00:00:00:00:02");
inline const MacAddress kPeerMac = *MacAddress::parse("02:00:00:00:00:01");
inline const std::string kHostIp = "10.0.0.2";
inline const std::string kPeerIp = "10.0.0.1";

// One stack; interface 0 is 10.0.0.2/24 (kHostMac) facing a peer 10.0.0.1 (kPeerMac).
class Harness {
 public:
  explicit Harness(StackConfig config = {}, bool learn_peer = true);

  // Adds another interface; frames it sends land in sent(id).
  NetifId add_netif(const std::string& name, const std::string& cidr, const std::string& mac,
                    std::uint32_t mtu = 1500);

  // Injects a frame on `netif` at the current virtual time.
  void inject(const Tins::EthernetII& frame, NetifId netif = 0);
  void inject_bytes(const std::vector<std::uint8_t>& frame, NetifId netif = 0);
  // Injects the IPv4 `datagram` in a frame from `src_mac` to `netif`'s own MAC.
  void inject_datagram(const std::vector<std::uint8_t>& datagram, NetifId netif = 0,
                       MacAddress src_mac = kPeerMac);
  // Advances the virtual clock by `d` and runs due timers.
  void advance(Duration d);

  // Frames sent on `netif` since the last take().
  std::vector<Tins::EthernetII> take(NetifId netif = 0);
  std::vector<std::vector<std::uint8_t>> take_bytes(NetifId netif = 0);
  // Forgets the frames sent on every interface so far.
  void clear();

  Stack& stack() { return *stack_; }
  Stats& stats() { return stack_->stats(); }
  Instant now() const { return now_; }

 private:
  std::unique_ptr<Stack> stack_;
  Instant now_ = Instant::from_micros(1'000'000);
  std::vector<std::vector<std::vector<std::uint8_t>>> sent_;
};

// An Ethernet frame from the peer to the host carrying `inner`.
Tins::EthernetII from_peer(const Tins::PDU& inner, const std::string& dst_mac = "02:00:00:00:00:02",
                           const std::string& src_mac = "02:00:00:00:00:01");

// An ICMP echo request from the peer to the host with `payload_size` bytes of data.
Tins::EthernetII echo_request(std::uint16_t id, std::uint16_t seq, std::size_t payload_size = 56,
                              const std::string& src = kPeerIp, const std::string& dst = kHostIp);

// Serialises a PDU (computing lengths and checksums the way libtins does).
std::vector<std::uint8_t> bytes_of(Tins::PDU& pdu);

using Bytes = std::vector<std::uint8_t>;

// The bytes `n` long, counting up from `first` (mod 256): recognisable payloads.
Bytes pattern(std::size_t n, std::uint8_t first = 0);

// An Ethernet II frame around `payload`, built by hand (for runts and odd EtherTypes).
Bytes ethernet_frame(const Bytes& payload, std::uint16_t ethertype = 0x0800,
                     MacAddress dst = kHostMac, MacAddress src = kPeerMac);

// An IPv4 datagram built by libtins: header (no options) + `payload`, ID 1 unless given.
Bytes ipv4_datagram(const std::string& src, const std::string& dst, std::uint8_t protocol,
                    const Bytes& payload, std::uint8_t ttl = 64, std::uint16_t id = 1,
                    bool dont_fragment = false);
// The IPv4 bytes of an echo request built by libtins (data as echo_request()).
Bytes echo_request_datagram(std::uint16_t id, std::uint16_t seq, std::size_t payload_size = 56,
                            const std::string& src = kPeerIp, const std::string& dst = kHostIp,
                            std::uint8_t ttl = 64);
// Inserts `options` (a multiple of 4 bytes) after the 20-byte header of `datagram` and fixes
// IHL, total length and checksum.
Bytes with_options(const Bytes& datagram, const Bytes& options);
// Recomputes the header checksum of the IPv4 datagram (after a test has edited its header).
void fix_ipv4_checksum(Bytes& datagram);
// True if the IPv4 header at the start of `datagram` carries a valid checksum.
bool ipv4_checksum_ok(std::span<const std::uint8_t> datagram);

// The test's own fragmenter (independent of the stack's): one fragment per
// `payload_per_fragment` payload bytes (a multiple of 8), header copied, MF/offset/length/
// checksum set.
std::vector<Bytes> split_datagram(const Bytes& datagram, std::size_t payload_per_fragment);
// One hand-made fragment of `datagram`'s payload: bytes [offset, offset + length) with MF as
// given (offset a multiple of 8).
Bytes fragment_of(const Bytes& datagram, std::size_t offset, std::size_t length, bool more);
// A fragment with `datagram`'s header (DF kept) carrying any `payload` at any `offset`: for
// fragments no honest sender makes (overlaps, past 65535).
Bytes fragment_with(const Bytes& datagram, std::size_t offset, const Bytes& payload, bool more);

// An ARP packet built by libtins in a frame from `sender_mac` to `eth_dst`.
Tins::EthernetII arp_packet(Tins::ARP::Flags op, const std::string& sender_mac,
                            const std::string& sender_ip, const std::string& target_mac,
                            const std::string& target_ip,
                            const std::string& eth_dst = "ff:ff:ff:ff:ff:ff");

// The IPv4 bytes (header + payload, Ethernet stripped, padding dropped) of a sent frame.
Bytes ipv4_of(const Bytes& frame);
// Decodes a sent frame with libtins.
Tins::EthernetII decode(const Bytes& frame);

// Checks that `frame` carries an ICMP error (`type`, `code`, the 4 `rest` bytes) from `src`
// to `dst` that quotes the first header + 8 bytes of `original` exactly, with valid IP and
// ICMP checksums.
void check_icmp_error(const Bytes& frame, std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                      const Bytes& original, const std::string& src = kHostIp,
                      const std::string& dst = kPeerIp);

}  // namespace tapir::test
