// IGMP host side: placeholder until the host-group table lands (everything joined is 224.0.0.1).
#include "stack/igmp/igmp.hpp"

#include "stack/stack.hpp"

namespace tapir::igmp {

Layer::Layer(Stack& stack, Config config) : stack_(stack), config_(config) {}
Layer::~Layer() = default;

void Layer::input(const ip::Delivery&, Packet&) {}
void Layer::interface_up(Netif& netif) {
  netif.join_mac(MacAddress::multicast_for(Ipv4Address{224, 0, 0, 1}));
}
void Layer::set_socket_filter(NetifId, Ipv4Address, int, const std::optional<Filter>&) {}
bool Layer::accepts(NetifId, Ipv4Address group, Ipv4Address) const {
  return group == Ipv4Address{224, 0, 0, 1};
}
bool Layer::joined(NetifId, Ipv4Address group) const {
  return group == Ipv4Address{224, 0, 0, 1};
}
std::optional<Filter> Layer::interface_filter(NetifId, Ipv4Address) const {
  return std::nullopt;
}
int Layer::version(NetifId) const {
  return config_.force_version == 0 ? 3 : config_.force_version;
}

}  // namespace tapir::igmp
