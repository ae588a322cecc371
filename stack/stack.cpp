// Stack: wiring of the layers and the three entry points (receive, advance, add_netif).
#include "stack/stack.hpp"

namespace tapir {

namespace {
ip::ReassemblyConfig with_hash_seed(ip::ReassemblyConfig config, std::uint64_t seed) {
  config.hash_seed = seed;
  return config;
}
}  // namespace

Stack::Stack(StackConfig config)
    : config_(config),
      random_(config.seed),
      eth_(*this),
      arp_(*this, config.arp),
      ip_(*this, with_hash_seed(config.reassembly, random_())),
      icmp_(*this, config.icmp),
      igmp_(*this, config.igmp),
      udp_(*this, config.ephemeral_ports),
      tcp_(*this, config.tcp, config.ephemeral_ports),
      sockets_(*this) {
  ip_.register_protocol(ip::protocol::icmp, [this](const ip::Delivery& d, Packet& payload) {
    icmp_.input(d, payload);
  });
  ip_.register_protocol(ip::protocol::igmp, [this](const ip::Delivery& d, Packet& payload) {
    igmp_.input(d, payload);
  });
  ip_.register_protocol(ip::protocol::udp,
                        [this](const ip::Delivery& d, Packet& payload) { udp_.input(d, payload); });
  ip_.register_protocol(ip::protocol::tcp,
                        [this](const ip::Delivery& d, Packet& payload) { tcp_.input(d, payload); });
  icmp_.on_error(ip::protocol::udp, [this](const icmp::ErrorReport& r) { udp_.error(r); });
  icmp_.on_error(ip::protocol::tcp, [this](const icmp::ErrorReport& r) { tcp_.error(r); });
  ip_.set_raw_hook([this](const ip::Delivery& d) { return sockets_.deliver_raw(d); });
  eth_.set_capture_hook(
      [this](const Netif& netif, std::span<const std::uint8_t> frame, bool outgoing) {
        if (sockets_.has_capture()) sockets_.deliver_frame(netif, frame, outgoing);
      });
}

NetifId Stack::add_netif(const NetifConfig& config, TransmitFn transmit, Instant now) {
  set_now(now);
  auto netif = std::make_unique<Netif>();
  netif->id = static_cast<NetifId>(netifs_.size());
  netif->name = config.name;
  netif->mac = config.mac;
  netif->mtu = config.mtu;
  netif->address = config.address;
  netif->transmit = std::move(transmit);
  netifs_.push_back(std::move(netif));
  Netif& added = *netifs_.back();
  igmp_.interface_up(added);
  if (added.address) {
    // The connected route (RFC 1122 §3.3.1.1: "on the same network").
    ip_.routes().add(ip::Route{Ipv4Cidr{added.address->network(), added.address->prefix_len},
                               std::nullopt, added.id, 0});
    arp_.announce(added);
  }
  return added.id;
}

bool Stack::add_route(Ipv4Cidr destination, Ipv4Address gateway) {
  // RFC 1122 §3.3.1.1: a gateway must be directly reachable.
  auto via = ip_.routes().lookup(gateway);
  if (!via || via->gateway) return false;
  ip_.routes().add(
      ip::Route{Ipv4Cidr{destination.network(), destination.prefix_len}, gateway, via->netif, 0});
  return true;
}

bool Stack::set_default_gateway(Ipv4Address gateway) {
  return add_route(Ipv4Cidr{Ipv4Address::any(), 0}, gateway);
}

void Stack::receive(NetifId netif, std::span<const std::uint8_t> frame, Instant now) {
  advance(now);
  if (netif >= netifs_.size()) return;
  eth_.input(*netifs_[netif], frame);
}

void Stack::advance(Instant now) {
  set_now(now);
  timers_.advance(now_);
}

}  // namespace tapir
