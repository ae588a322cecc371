// The IPv4 layer: input (ip_in), local delivery, output (ipsend/ipputp), forwarding, loopback.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>

#include "stack/core/address.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/time.hpp"
#include "stack/ip/ipv4_header.hpp"
#include "stack/ip/reassembly.hpp"
#include "stack/ip/route_table.hpp"
#include "stack/link/netif.hpp"

namespace tapir {

class Stack;

namespace ip {

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
using ProtocolHandler = std::function<void(const Delivery& delivery, Packet& payload)>;

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

class Layer {
 public:
  Layer(Stack& stack, ReassemblyConfig reassembly);

  // ip_in: a datagram arrived on `netif`; `link_broadcast` says the frame's destination MAC
  // was broadcast or multicast.
  void input(Netif& netif, Packet&& packet, bool link_broadcast);

  // ipsend: builds a header in front of `payload` and routes it. `src` unspecified picks the
  // outgoing interface's address (RFC 1122 §3.3.4.3).
  SendError send(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol, Packet&& payload,
                 const SendOptions& options = {});
  // Sends a datagram that already carries its header (raw sockets with IP_HDRINCL, ICMP
  // errors built in place). The header checksum is filled in here.
  SendError send_datagram(Packet&& datagram, const SendOptions& options = {});

  void register_protocol(std::uint8_t protocol, ProtocolHandler handler);
  // Raw IP sockets see a copy of every datagram delivered locally, before its protocol does
  // (raw(7)); the hook returns whether any socket took one.
  using RawHook = std::function<bool(const Delivery& delivery)>;
  void set_raw_hook(RawHook hook) { raw_hook_ = std::move(hook); }

  // Is `a` one of this host's unicast addresses (on any interface, or 127/8)?
  bool is_local(Ipv4Address a) const;
  // Is `a` the limited broadcast or the directed broadcast of one of our subnets?
  bool is_broadcast(Ipv4Address a) const;
  // The source address to use toward `dst` (RFC 1122 §3.3.4.3), if there is a route.
  std::optional<Ipv4Address> source_for(Ipv4Address dst) const;
  // The MTU of the interface the route toward `dst` leaves by (TCP's MSS, RFC 9293 §3.7.1).
  std::optional<std::uint32_t> mtu_for(Ipv4Address dst) const;

  RouteTable& routes() { return routes_; }
  const RouteTable& routes() const { return routes_; }
  Reassembler& reassembler() { return reassembler_; }

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

  Stack& stack_;
  RouteTable routes_;
  Reassembler reassembler_;
  std::array<ProtocolHandler, 256> handlers_{};
  RawHook raw_hook_;
  std::deque<Packet> loopback_;
  bool draining_loopback_ = false;
  std::uint16_t next_id_ = 0;
};

}  // namespace ip
}  // namespace tapir
