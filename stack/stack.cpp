// Stack: the layers built bottom up, the handlers each registers with the layer below, and
// the three entry points (receive, advance, add_netif).
#include "stack/stack.hpp"

namespace tapir {

namespace {

ip::ReassemblyConfig with_hash_seed(ip::ReassemblyConfig config, std::uint64_t seed) {
  config.hash_seed = seed;
  return config;
}

ip::Config ip_config(const StackConfig& c) {
  return ip::Config{c.forwarding, c.send_redirects, c.default_ttl};
}

}  // namespace

Stack::Stack(StackConfig config)
    : config_(config),
      context_(config.seed),
      eth_(context_),
      arp_(context_, interfaces_, eth_, config.arp),
      ip_(context_, interfaces_, arp_, ip_config(config),
          with_hash_seed(config.reassembly, context_.random()())),
      icmp_(context_, interfaces_, ip_, config.icmp),
      igmp_(context_, interfaces_, ip_, config.igmp),
      udp_(context_, ip_, config.ephemeral_ports),
      tcp_(context_, ip_, config.tcp, config.ephemeral_ports),
      sockets_(context_, ip_, igmp_, udp_, tcp_) {
  wire();
}

// Every upward path of the stack, in one place: a layer learns of the one above only
// through what is registered here.
void Stack::wire() {
  // ethdemux: EtherType -> ARP, IPv4.
  eth_.register_protocol(
      eth::EtherType::arp,
      [this](Netif& n, std::span<const std::uint8_t> payload, bool) { arp_.input(n, payload); });
  eth_.register_protocol(eth::EtherType::ipv4,
                         [this](Netif& n, std::span<const std::uint8_t> payload, bool group) {
                           ip_.input(n, payload, group);
                         });
  // Packet capture sockets see every frame, in and out.
  eth_.set_capture_hook([this](const Netif& n, std::span<const std::uint8_t> frame, bool out) {
    if (sockets_.has_capture()) sockets_.deliver_frame(n, frame, out);
  });

  // ipdemux: protocol -> ICMP, IGMP, UDP, TCP; raw sockets see a copy first.
  ip_.register_protocol(ip::protocol::icmp,
                        [this](const ip::Delivery& d, Packet& p) { icmp_.input(d, p); });
  ip_.register_protocol(ip::protocol::igmp,
                        [this](const ip::Delivery& d, Packet& p) { igmp_.input(d, p); });
  ip_.register_protocol(ip::protocol::udp,
                        [this](const ip::Delivery& d, Packet& p) { udp_.input(d, p); });
  ip_.register_protocol(ip::protocol::tcp,
                        [this](const ip::Delivery& d, Packet& p) { tcp_.input(d, p); });
  ip_.set_raw_hook([this](const ip::Delivery& d) { return sockets_.deliver_raw(d); });
  // Multicast reception is the host-group table's to decide.
  ip_.set_group_membership([this](NetifId n, Ipv4Address group) { return igmp_.joined(n, group); },
                           [this](NetifId n, Ipv4Address group, Ipv4Address source) {
                             return igmp_.accepts(n, group, source);
                           });

  // Problems become ICMP errors: IP's and the transports' (through ip_.report), and ARP's
  // unanswered addresses (RFC 1122 §2.3.2.2: host unreachable).
  ip_.on_problem([this](const ip::ProblemReport& r) { icmp_.report(r); });
  arp_.on_unreachable([this](std::span<const std::uint8_t> datagram) {
    ip_.report(ip::Problem::host_unreachable, 0, datagram, false);
  });

  // ICMP errors about our datagrams go to the transport that sent them.
  icmp_.on_error(ip::protocol::udp, [this](const icmp::ErrorReport& r) { udp_.error(r); });
  icmp_.on_error(ip::protocol::tcp, [this](const icmp::ErrorReport& r) { tcp_.error(r); });
}

NetifId Stack::add_netif(const NetifConfig& config, TransmitFn transmit, Instant now) {
  context_.set_now(now);
  Netif& added = interfaces_.add(config, std::move(transmit));
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
  if (!interfaces_.contains(netif)) return;
  eth_.input(interfaces_.at(netif), frame);
}

void Stack::advance(Instant now) {
  context_.set_now(now);
  context_.timers().advance(context_.now());
}

}  // namespace tapir
