// Netif: one network interface of a stack (Xinu's `struct netif`): addresses, MTU, link hook.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "stack/core/address.hpp"

namespace tapir {

using NetifId = std::uint16_t;

// Where a stack's frames leave: the Host wires this to a driver, a test to a capture list.
using TransmitFn = std::function<void(std::span<const std::uint8_t> frame)>;

struct NetifConfig {
  std::string name;
  MacAddress mac;
  std::uint32_t mtu = 1500;
  std::optional<Ipv4Cidr> address;  // none: the interface only forwards
};

struct Netif {
  NetifId id = 0;
  std::string name;
  MacAddress mac;
  std::uint32_t mtu = 1500;
  std::optional<Ipv4Cidr> address;
  TransmitFn transmit;
  // The link-layer multicast filter (RFC 1112 §6.4): MACs of joined groups, with a count of
  // the groups that map to each (32 groups share one MAC). The IGMP layer keeps it.
  std::unordered_map<std::uint64_t, int> multicast_macs;

  void join_mac(MacAddress group_mac) { ++multicast_macs[key(group_mac)]; }
  void leave_mac(MacAddress group_mac) {
    auto it = multicast_macs.find(key(group_mac));
    if (it != multicast_macs.end() && --it->second <= 0) multicast_macs.erase(it);
  }
  bool accepts_multicast(MacAddress group_mac) const {
    return multicast_macs.contains(key(group_mac));
  }

  bool has_address(Ipv4Address a) const { return address && address->address == a; }
  // The subnet-directed broadcast of this interface (RFC 922), if it has an address.
  bool is_directed_broadcast(Ipv4Address a) const {
    return address && address->prefix_len < 31 && a == address->directed_broadcast();
  }

 private:
  static std::uint64_t key(MacAddress m) {
    std::uint64_t k = 0;
    for (std::uint8_t b : m.bytes()) k = (k << 8) | b;
    return k;
  }
};

// The interfaces of one stack (Xinu's nif table), indexed by NetifId. Every layer that needs
// to know which addresses are ours, or to send out of one interface, asks this table.
class Interfaces {
 public:
  Netif& add(const NetifConfig& config, TransmitFn transmit);
  Netif& at(NetifId id) { return *netifs_.at(id); }
  const Netif& at(NetifId id) const { return *netifs_.at(id); }
  bool contains(NetifId id) const { return id < netifs_.size(); }
  std::size_t size() const { return netifs_.size(); }

  // Is `a` one of this host's unicast addresses, on any interface, or in 127/8?
  bool is_local(Ipv4Address a) const;
  // Is `a` the limited broadcast or the directed broadcast of one of our subnets?
  bool is_broadcast(Ipv4Address a) const;
  // The interface that holds address `a` (the last one, if several do), if any.
  std::optional<NetifId> holding(Ipv4Address a) const;

  template <typename F>
  void for_each(F&& f) const {
    for (const auto& n : netifs_) f(static_cast<const Netif&>(*n));
  }

 private:
  std::vector<std::unique_ptr<Netif>> netifs_;
};

}  // namespace tapir
