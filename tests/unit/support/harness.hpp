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
  // Advances the virtual clock by `d` and runs due timers.
  void advance(Duration d);

  // Frames sent on `netif` since the last take().
  std::vector<Tins::EthernetII> take(NetifId netif = 0);
  std::vector<std::vector<std::uint8_t>> take_bytes(NetifId netif = 0);

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

}  // namespace tapir::test
