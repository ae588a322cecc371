// Interfaces: the table of a stack's interfaces and the address questions it answers.
#include "stack/link/netif.hpp"

namespace tapir {

Netif& Interfaces::add(const NetifConfig& config, TransmitFn transmit) {
  auto netif = std::make_unique<Netif>();
  netif->id = static_cast<NetifId>(netifs_.size());
  netif->name = config.name;
  netif->mac = config.mac;
  netif->mtu = config.mtu;
  netif->address = config.address;
  netif->transmit = std::move(transmit);
  netifs_.push_back(std::move(netif));
  return *netifs_.back();
}

bool Interfaces::is_local(Ipv4Address a) const {
  if (a.is_loopback()) return true;
  for (const auto& n : netifs_) {
    if (n->has_address(a)) return true;
  }
  return false;
}

bool Interfaces::is_broadcast(Ipv4Address a) const {
  if (a.is_broadcast()) return true;
  for (const auto& n : netifs_) {
    if (n->is_directed_broadcast(a)) return true;
  }
  return false;
}

std::optional<NetifId> Interfaces::holding(Ipv4Address a) const {
  std::optional<NetifId> found;
  for (const auto& n : netifs_) {
    if (n->has_address(a)) found = n->id;
  }
  return found;
}

}  // namespace tapir
