// Stack: one host's protocol layers, driven by frames in, time passing, and frames out.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>

#include "stack/core/context.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/ports.hpp"
#include "stack/core/stats.hpp"
#include "stack/core/time.hpp"
#include "stack/core/timer.hpp"
#include "stack/core/trace.hpp"
#include "stack/icmp/icmp.hpp"
#include "stack/igmp/igmp.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/link/arp.hpp"
#include "stack/link/ethernet.hpp"
#include "stack/link/netif.hpp"
#include "stack/socket/api.hpp"
#include "stack/tcp/tcp.hpp"
#include "stack/udp/udp.hpp"

namespace tapir {

struct StackConfig {
  bool forwarding = false;        // act as a router between interfaces (RFC 1812)
  bool send_redirects = true;     // RFC 1812 §4.3.3.2 / §5.2.7.2, when forwarding
  std::uint8_t default_ttl = 64;  // RFC 1700 / Linux ip_default_ttl
  std::uint64_t seed = 0x7a9179;  // ephemeral choices (IP ID start, ...); tests fix it
  arp::Config arp;
  ip::ReassemblyConfig reassembly;
  icmp::Config icmp;
  igmp::Config igmp;
  PortRange ephemeral_ports;  // RFC 6056 range for UDP and TCP local ports
  tcp::Config tcp;
};

// The sans-I/O stack (DESIGN.md principle 1). Nothing here reads a device or a clock: input
// is receive(), time moves with advance(), frames leave through each Netif's TransmitFn.
//
// This is the one place that knows every layer: it builds them bottom up, each given only
// what lies below it, and registers each layer's handlers with the layer below
// (docs/ARCHITECTURE.md, "Layers and the dispatch rule").
class Stack {
 public:
  explicit Stack(StackConfig config = {});
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Adds an interface: installs its connected route and announces its address (gratuitous
  // ARP). `transmit` receives every frame the stack sends on it.
  NetifId add_netif(const NetifConfig& config, TransmitFn transmit, Instant now);
  Netif& netif(NetifId id) { return interfaces_.at(id); }
  const Netif& netif(NetifId id) const { return interfaces_.at(id); }
  std::size_t netif_count() const { return interfaces_.size(); }
  // Adds a default route (0.0.0.0/0) through `gateway` on whichever interface reaches it.
  bool set_default_gateway(Ipv4Address gateway);
  bool add_route(Ipv4Cidr destination, Ipv4Address gateway);

  // A frame arrived on `netif` at `now`. Timers due by `now` run first.
  void receive(NetifId netif, std::span<const std::uint8_t> frame, Instant now);
  // Brackets a batch of receive() calls (every frame a driver had ready): TCP sends the ACKs
  // the batch asked for once per connection at end_batch() (tcp::Layer::begin_batch).
  void begin_batch() { tcp_.begin_batch(); }
  void end_batch() { tcp_.end_batch(); }
  // Runs every timer due at or before `now`.
  void advance(Instant now);
  // When advance() next has work; nullopt when no timer is pending.
  std::optional<Instant> next_deadline() const { return context_.timers().next_deadline(); }

  Instant now() const { return context_.now(); }
  const StackConfig& config() const { return config_; }
  Context& context() { return context_; }
  Stats& stats() { return context_.stats(); }
  const Stats& stats() const { return context_.stats(); }
  Trace& trace() { return context_.tracer(); }
  TimerQueue& timers() { return context_.timers(); }
  std::mt19937_64& random() { return context_.random(); }

  Interfaces& interfaces() { return interfaces_; }
  eth::Layer& eth() { return eth_; }
  arp::Cache& arp() { return arp_; }
  ip::Layer& ip() { return ip_; }
  icmp::Layer& icmp() { return icmp_; }
  igmp::Layer& igmp() { return igmp_; }
  udp::Layer& udp() { return udp_; }
  tcp::Layer& tcp() { return tcp_; }
  // The BSD socket calls (non-blocking; errors as negative errno).
  sock::Api& sockets() { return sockets_; }

 private:
  void wire();

  StackConfig config_;
  Context context_;
  Interfaces interfaces_;
  eth::Layer eth_;
  arp::Cache arp_;
  ip::Layer ip_;
  icmp::Layer icmp_;
  igmp::Layer igmp_;
  udp::Layer udp_;
  tcp::Layer tcp_;  // before sockets_: sockets point at its connections
  sock::Api sockets_;
};

}  // namespace tapir
