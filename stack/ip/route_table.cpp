// The routing table: longest-prefix match over one hash table per prefix length.
#include "stack/ip/route_table.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

namespace tapir::ip {

namespace {
constexpr std::uint64_t bit_of(std::size_t len) {
  return std::uint64_t{1} << len;
}
}  // namespace

void RouteTable::add(const Route& route) {
  const std::uint8_t len = route.destination.prefix_len;
  assert(len <= 32 && "Ipv4Cidr::parse never yields a prefix over 32");
  if (len > 32) return;
  // The table stores the network, not the address the route was written with: a connected
  // route added from 10.0.0.2/24 is the route to 10.0.0.0/24, and prints that way.
  Route stored = route;
  stored.destination.address = route.destination.network();
  auto [it, inserted] =
      by_length_[len].insert_or_assign(stored.destination.address.value(), stored);
  (void)it;
  if (inserted) ++count_;
  lengths_in_use_ |= bit_of(len);
}

bool RouteTable::remove(Ipv4Cidr destination) {
  const std::uint8_t len = destination.prefix_len;
  if (len > 32) return false;
  auto& table = by_length_[len];
  if (table.erase(destination.network().value()) == 0) return false;
  --count_;
  if (table.empty()) lengths_in_use_ &= ~bit_of(len);
  return true;
}

void RouteTable::remove_netif(NetifId netif) {
  for (std::size_t len = 0; len < by_length_.size(); ++len) {
    auto& table = by_length_[len];
    count_ -=
        std::erase_if(table, [netif](const auto& entry) { return entry.second.netif == netif; });
    if (table.empty()) lengths_in_use_ &= ~bit_of(len);
  }
}

std::optional<Route> RouteTable::lookup(Ipv4Address dst) const {
  // RFC 1812 §5.2.4.3: the most specific route wins. Only lengths that hold a route are
  // probed, longest first, so the first hit is the longest match.
  std::uint64_t pending = lengths_in_use_;
  while (pending != 0) {
    const auto len = static_cast<std::size_t>(std::bit_width(pending) - 1);
    pending &= ~bit_of(len);
    const auto& table = by_length_[len];
    const auto mask = Ipv4Cidr::mask_of(static_cast<std::uint8_t>(len));
    if (auto it = table.find(dst.value() & mask); it != table.end()) return it->second;
  }
  return std::nullopt;
}

std::vector<Route> RouteTable::routes() const {
  std::vector<Route> out;
  out.reserve(count_);
  for (const auto& table : by_length_) {
    for (const auto& [network, route] : table) out.push_back(route);
  }
  // Longest prefix first (the order lookup tries them), then by network so output is stable.
  std::sort(out.begin(), out.end(), [](const Route& a, const Route& b) {
    if (a.destination.prefix_len != b.destination.prefix_len) {
      return a.destination.prefix_len > b.destination.prefix_len;
    }
    return a.destination.address < b.destination.address;
  });
  return out;
}

}  // namespace tapir::ip
