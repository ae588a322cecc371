// Netif: one network interface of a stack (Xinu's `struct netif`): addresses, MTU, link hook.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

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

  bool has_address(Ipv4Address a) const { return address && address->address == a; }
  // The subnet-directed broadcast of this interface (RFC 922), if it has an address.
  bool is_directed_broadcast(Ipv4Address a) const {
    return address && address->prefix_len < 31 && a == address->directed_broadcast();
  }
};

}  // namespace tapir
