// The IPv4 layer: input (ip_in), local delivery, output (ipsend/ipputp), forwarding, loopback.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/dispatch.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/time.hpp"
#include "stack/ip/ipv4_header.hpp"
#include "stack/ip/reassembly.hpp"
#include "stack/ip/route_table.hpp"
#include "stack/link/arp.hpp"
#include "stack/link/netif.hpp"

namespace tapir::ip {

struct Config {
  bool forwarding = false;        // act as a router between interfaces (RFC 1812)
  bool send_redirects = true;     // RFC 1812 §4.3.3.2 / §5.2.7.2, when forwarding
  std::uint8_t default_ttl = 64;  // RFC 1700 / Linux ip_default_ttl
};

// What a protocol handler is told about a datagram delivered to it.
struct Delivery {
  Repr header;
  NetifId netif = 0;
  // The destination was a broadcast or multicast address.
  bool to_group = false;
  // The frame was a link-layer broadcast or multicast. With to_group, RFC 1122 §3.2.2 forbids
  // ICMP errors about such datagrams (errors_forbidden()).
  bool link_broadcast = false;
  // The whole datagram (header with options + payload), to quote in ICMP errors.
  std::span<const std::uint8_t> datagram;

  bool errors_forbidden() const { return to_group || link_broadcast; }
};

// payload: the transport bytes (the IP header already consumed).
using ProtocolHandler = void(const Delivery& delivery, Packet& payload);

// What IP, and the transports above it, have ICMP tell a datagram's source (RFC 1122 §3.2.2).
// ICMP picks the message for each, applies the never-send rules and the rate limit.
enum class Problem : std::uint8_t {
  net_unreachable,       // RFC 1812 §5.2.7.1: no route to forward by
  host_unreachable,      // RFC 1122 §2.3.2.2: the next hop never answered ARP
  protocol_unreachable,  // RFC 1122 §3.2.2.1: no handler for the protocol
  port_unreachable,      // RFC 1122 §4.1.3.1: no socket on the port
  fragmentation_needed,  // RFC 1191 §4: DF set and too big (value: the next-hop MTU)
  ttl_exceeded,          // RFC 1812 §5.3.1: the TTL ran out in transit
  reassembly_timeout,    // RFC 1122 §3.3.2: fragment zero came, the rest did not
  parameter_problem,     // RFC 1122 §3.2.2.5 (value: the offending octet's offset)
  redirect_host,         // RFC 1812 §5.2.7.2 (value: the better first hop)
};

struct ProblemReport {
  Problem problem = Problem::host_unreachable;
  std::uint32_t value = 0;
  std::span<const std::uint8_t> datagram;  // the datagram at fault, from its header on
  // It was sent to a group (broadcast or multicast, at the IP or the link layer): RFC 1122
  // §3.2.2 forbids an error about it.
  bool about_group = false;
};
using ProblemHandler = void(const ProblemReport& report);

struct SendOptions {
  std::optional<std::uint8_t> ttl;  // none: the stack's default TTL
  std::uint8_t tos = 0;
  bool dont_fragment = false;
  bool dont_route = false;       // SO_DONTROUTE: only directly connected destinations
  std::optional<NetifId> netif;  // send out of this interface (multicast/broadcast)
  // IP_MULTICAST_LOOP: a datagram to a group this host has joined on the outgoing interface
  // is also delivered locally (RFC 1112 §6.1).
  bool multicast_loop = true;
  // The Router Alert option (RFC 2113), which IGMP messages carry (RFC 2236 §2, RFC 3376 §4).
  bool router_alert = false;
};

enum class SendError : std::uint8_t { none, no_route, too_big, bad_source };
// The errno a failed send means to a socket user (0 for success).
int errno_of(SendError error);

class Layer {
 public:
  Layer(Context& context, Interfaces& interfaces, arp::Cache& arp, Config config,
        ReassemblyConfig reassembly);

  // ip_in: a datagram arrived on `netif`; `link_broadcast` says the frame's destination MAC
  // was broadcast or multicast.
  void input(Netif& netif, Packet&& packet, bool link_broadcast);
  // The same for a frame's payload, which IP copies into a Packet of its own.
  void input(Netif& netif, std::span<const std::uint8_t> bytes, bool link_broadcast) {
    input(netif, Packet::copy_of(bytes), link_broadcast);
  }

  // ipsend: builds a header in front of `payload` and routes it. `src` unspecified picks the
  // outgoing interface's address (RFC 1122 §3.3.4.3).
  SendError send(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol, Packet&& payload,
                 const SendOptions& options = {});
  // Sends a datagram that already carries its header (raw sockets with IP_HDRINCL, ICMP
  // errors built in place). The header checksum is filled in here.
  SendError send_datagram(Packet&& datagram, const SendOptions& options = {});

  // The transports and ICMP/IGMP register here (stack.cpp): ipdemux as a table.
  void register_protocol(std::uint8_t protocol, std::function<ProtocolHandler> handler) {
    handlers_.add(protocol, std::move(handler));
  }
  // Raw IP sockets see a copy of every datagram delivered locally, before its protocol does
  // (raw(7)); the hook returns whether any socket took one.
  using RawHandler = bool(const Delivery& delivery);
  void set_raw_hook(std::function<RawHandler> hook) { raw_hook_.set(std::move(hook)); }
  // Where problems go (ICMP's error messages, wired by stack.cpp).
  void on_problem(std::function<ProblemHandler> handler) { problems_.set(std::move(handler)); }
  // Has a datagram's source told of a problem with `datagram`? IP's own problems and the
  // transports' (port unreachable) go out through here.
  void report(Problem problem, std::uint32_t value, std::span<const std::uint8_t> datagram,
              bool about_group) {
    problems_(ProblemReport{problem, value, datagram, about_group});
  }
  // Multicast reception (RFC 1112 §7.2, RFC 3376 §3.2) is the host-group table's to decide
  // (IGMP, wired by stack.cpp): has `netif` joined `group`, and does its filter let `source`
  // through?
  using JoinedHandler = bool(NetifId netif, Ipv4Address group);
  using AdmitsHandler = bool(NetifId netif, Ipv4Address group, Ipv4Address source);
  void set_group_membership(std::function<JoinedHandler> joined,
                            std::function<AdmitsHandler> admits) {
    joined_.set(std::move(joined));
    admits_.set(std::move(admits));
  }
  bool joined(NetifId netif, Ipv4Address group) const { return joined_(netif, group); }

  // Is `a` one of this host's unicast addresses (on any interface, or 127/8)?
  bool is_local(Ipv4Address a) const { return interfaces_.is_local(a); }
  // Is `a` the limited broadcast or the directed broadcast of one of our subnets?
  bool is_broadcast(Ipv4Address a) const { return interfaces_.is_broadcast(a); }
  // The source address to use toward `dst` (RFC 1122 §3.3.4.3), if there is a route.
  std::optional<Ipv4Address> source_for(Ipv4Address dst) const;
  // The MTU of the interface the route toward `dst` leaves by (TCP's MSS, RFC 9293 §3.7.1).
  std::optional<std::uint32_t> mtu_for(Ipv4Address dst) const;

  RouteTable& routes() { return routes_; }
  const RouteTable& routes() const { return routes_; }
  Reassembler& reassembler() { return reassembler_; }
  const Config& config() const { return config_; }
  Interfaces& interfaces() { return interfaces_; }
  const Interfaces& interfaces() const { return interfaces_; }

 private:
  struct Hop {
    Netif* out = nullptr;
    Ipv4Address next_hop;
  };
  std::optional<Hop> choose_hop(Ipv4Address dst, const SendOptions& options);
  bool accepts(NetifId netif, const Repr& header, bool& to_group) const;
  void deliver(const Delivery& delivery, Packet&& datagram);
  void forward(Netif& in, Packet&& datagram, const Repr& header, bool link_broadcast);
  // ipputp: fragments if needed, then hands each piece to ARP for `next_hop`.
  SendError put(Netif& out, Ipv4Address next_hop, Packet&& datagram, const Repr& header);
  void loop_back(Packet&& datagram);
  void report_bad_header(Netif& netif, const Packet& packet, HeaderError error, const Repr& partial,
                         bool link_broadcast);
  void reassembly_timed_out(std::span<const std::uint8_t> first_fragment);

  Context& context_;
  Interfaces& interfaces_;
  arp::Cache& arp_;
  Config config_;
  RouteTable routes_;
  Reassembler reassembler_;
  Demux<std::uint8_t, ProtocolHandler> handlers_;
  Hook<RawHandler> raw_hook_;
  Hook<ProblemHandler> problems_;
  Hook<JoinedHandler> joined_;
  Hook<AdmitsHandler> admits_;
  std::deque<Packet> loopback_;
  bool draining_loopback_ = false;
  std::uint16_t next_id_ = 0;
};

}  // namespace tapir::ip
