// UDP (RFC 768, RFC 1122 §4.1): demultiplexing to endpoints, checksums, ports, output.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/dispatch.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/ports.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/ip/transport_error.hpp"
#include "stack/udp/header.hpp"

namespace tapir::udp {

// What UDP hands an endpoint: the datagram's data and where it came from.
struct Datagram {
  const ip::Delivery& delivery;
  std::uint16_t src_port = 0;
  std::span<const std::uint8_t> data;
};

// One socket's UDP binding: what demultiplexing matches (the Binding's addresses and ports,
// as Linux's compute_score scores them) and where matched datagrams go. The socket layer owns
// it and registers the handlers (as lwIP's udp_recv); UDP's port table points at it while it
// is bound.
struct Endpoint : Binding {
  // A datagram for this endpoint; false when the socket has no room (counted).
  Hook<bool(const Datagram& datagram)> on_datagram;
  // Does this endpoint's own source filter let a datagram from `source` to `group` through?
  // (RFC 3376 §3.1 socket state; unset: yes.)
  Hook<bool(NetifId netif, Ipv4Address group, Ipv4Address source)> admits;
  // An ICMP error about a datagram this endpoint sent (RFC 1122 §4.1.3.3).
  Hook<void(const ip::TransportError& error)> on_error;
};

class Layer {
 public:
  Layer(Context& context, ip::Layer& ip, PortRange ephemeral);

  // udp_in
  void input(const ip::Delivery& delivery, Packet& payload);
  // An ICMP error quoting one of our datagrams (RFC 1122 §4.1.3.3): told to its endpoint.
  void error(const ip::TransportError& report);

  // Binds `e` to addr:port (port 0 picks an ephemeral one). Returns 0 or a positive errno:
  // EADDRINUSE, EADDRNOTAVAIL, EINVAL (already bound).
  int bind(Endpoint& e, Ipv4Address addr, std::uint16_t port);
  void unbind(Endpoint& e);
  // udp_send: one datagram from src:src_port to dst:dst_port. Returns 0 or a positive errno
  // (EMSGSIZE, EINVAL for port 0, or what IP said).
  int send(Ipv4Address src, std::uint16_t src_port, Ipv4Address dst, std::uint16_t dst_port,
           std::span<const std::uint8_t> data, const ip::SendOptions& options);

  std::size_t bound_ports() const { return by_port_.size(); }
  // f(endpoint) for every bound endpoint, in no particular order (tapirctl ss).
  template <typename F>
  void for_each_endpoint(F&& f) const {
    for (const auto& [port, list] : by_port_) {
      for (const Endpoint* e : list) f(*e);
    }
  }

 private:
  bool conflicts(const Endpoint& e, Ipv4Address addr, std::uint16_t port) const;
  Endpoint* lookup(const ip::Repr& ip, const Repr& udp) const;
  bool deliver(Endpoint& e, const ip::Delivery& d, const Repr& udp,
               std::span<const std::uint8_t> data);

  Context& context_;
  ip::Layer& ip_;
  PortRange ephemeral_;
  // Endpoints bound to each local port, in bind order.
  std::unordered_map<std::uint16_t, std::vector<Endpoint*>> by_port_;
};

}  // namespace tapir::udp
