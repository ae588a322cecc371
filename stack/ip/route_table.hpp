// The routing table: longest-prefix match over one hash table per prefix length.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/link/netif.hpp"

namespace tapir::ip {

struct Route {
  Ipv4Cidr destination;                // network() is the key; host bits are ignored
  std::optional<Ipv4Address> gateway;  // none: directly connected
  NetifId netif = 0;
  std::uint32_t metric = 0;
};

// Lookup probes the prefix lengths that hold routes, longest first: at most 33 hash probes,
// and in practice as many as there are distinct prefix lengths in use (Xinu's rtget, but
// without the linear scan).
class RouteTable {
 public:
  // Adds or replaces the route for exactly this destination network.
  void add(const Route& route);
  bool remove(Ipv4Cidr destination);
  // Removes every route through `netif` (the interface went away).
  void remove_netif(NetifId netif);

  std::optional<Route> lookup(Ipv4Address dst) const;
  std::vector<Route> routes() const;  // longest prefix first, for printing
  std::size_t size() const { return count_; }

 private:
  std::array<std::unordered_map<std::uint32_t, Route>, 33> by_length_;
  std::uint64_t lengths_in_use_ = 0;  // bit n set: by_length_[n] is non-empty
  std::size_t count_ = 0;
};

}  // namespace tapir::ip
