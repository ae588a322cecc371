// UDP (RFC 768, RFC 1122 §4.1): udp_in demultiplexing, checksums, ports, udp_send.
#include "stack/udp/udp.hpp"

#include <algorithm>
#include <cerrno>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"

namespace tapir::udp {

Layer::Layer(Context& context, ip::Layer& ip, PortRange ephemeral)
    : context_(context), ip_(ip), ephemeral_(ephemeral) {}

namespace {

// How well a socket matches a datagram: -1 not at all; higher is more specific
// (a bound local address, then a connected peer), as Linux's compute_score.
int score(const Endpoint& s, const ip::Repr& ip, const Repr& udp) {
  int score = 0;
  if (!s.local_addr.is_unspecified()) {
    if (s.local_addr != ip.dst) return -1;
    score += 2;
  }
  if (s.connected) {
    if (s.peer_addr != ip.src || s.peer_port != udp.src_port) return -1;
    score += 4;
  }
  return score;
}

// Which sockets may receive a datagram to a group address: those bound to the port and to
// any address or to that very group/broadcast address (RFC 1122 §4.1.3.5; Linux's rule).
bool takes_group(const Endpoint& s, const ip::Repr& ip, const Repr& udp) {
  if (!s.local_addr.is_unspecified() && s.local_addr != ip.dst) return false;
  if (s.connected && (s.peer_addr != ip.src || s.peer_port != udp.src_port)) return false;
  return true;
}

}  // namespace

Endpoint* Layer::lookup(const ip::Repr& ip, const Repr& udp) const {
  auto it = by_port_.find(udp.dst_port);
  if (it == by_port_.end()) return nullptr;
  Endpoint* best = nullptr;
  int best_score = -1;
  for (Endpoint* s : it->second) {
    const int sc = score(*s, ip, udp);
    if (sc > best_score) {
      best = s;
      best_score = sc;
    }
  }
  return best;
}

void Layer::input(const ip::Delivery& delivery, Packet& payload) {
  Stats& stats = context_.stats();
  if (payload.size() < header_len) {
    stats.udpInErrors++;
    stats.udpInBadLength++;
    return;
  }
  const Repr udp = ConstView(payload.bytes()).repr();
  // RFC 768: the length covers header and data; it may be less than the IP payload (then the
  // rest is padding) but never more, and never less than the header.
  if (udp.length < header_len || udp.length > payload.size()) {
    stats.udpInErrors++;
    stats.udpInBadLength++;
    return;
  }
  payload.truncate(udp.length);
  // RFC 768 / RFC 1122 §4.1.3.4: a zero checksum means "none"; otherwise it must verify.
  if (udp.checksum != 0 && transport_checksum(delivery.header.src, delivery.header.dst,
                                              ip::protocol::udp, payload.bytes()) != 0) {
    stats.udpInErrors++;
    stats.udpInCsumErrors++;
    return;
  }
  const auto data = payload.bytes().subspan(header_len);
  context_.trace(tapir::Layer::udp, [&] {
    return "in " + delivery.header.src.to_string() + ":" + std::to_string(udp.src_port) + " > " +
           delivery.header.dst.to_string() + ":" + std::to_string(udp.dst_port) + " len " +
           std::to_string(data.size());
  });

  if (delivery.to_group) {
    // Broadcast (and multicast): every matching socket gets its own copy.
    bool any = false;
    if (auto it = by_port_.find(udp.dst_port); it != by_port_.end()) {
      for (Endpoint* s : it->second) {
        if (!takes_group(*s, delivery.header, udp)) continue;
        // Each socket's own source filter decides for it alone (Linux's ip_mc_sf_allow): the
        // interface state let the datagram in because some member wants it.
        if (delivery.header.dst.is_multicast() && s->admits &&
            !s->admits(delivery.netif, delivery.header.dst, delivery.header.src)) {
          continue;
        }
        any |= deliver(*s, delivery, udp, data);
      }
    }
    // RFC 1122 §4.1.3.1: no port unreachable about broadcast/multicast.
    if (!any) stats.udpNoPorts++;
    return;
  }
  if (Endpoint* s = lookup(delivery.header, udp)) {
    deliver(*s, delivery, udp, data);
    return;
  }
  stats.udpNoPorts++;
  // RFC 1122 §4.1.3.1: SHOULD send port unreachable (ICMP rate-limits it).
  ip_.report(ip::Problem::port_unreachable, 0, delivery.datagram, delivery.errors_forbidden());
}

bool Layer::deliver(Endpoint& e, const ip::Delivery& d, const Repr& udp,
                    std::span<const std::uint8_t> data) {
  Stats& stats = context_.stats();
  // After shutdown(SHUT_RD) Linux still queues UDP datagrams and recv still returns them.
  if (!e.on_datagram(Datagram{d, udp.src_port, data})) {
    stats.udpRcvbufErrors++;
    stats.udpInErrors++;
    return false;
  }
  stats.udpInDatagrams++;
  return true;
}

void Layer::error(const ip::TransportError& report) {
  if (report.original_payload.size() < 4) return;
  const ConstView quoted(report.original_payload);
  // The quoted datagram is one we sent: look it up as if it were coming back, the way Linux's
  // __udp4_lib_err finds the one socket to tell.
  ip::Repr reversed;
  reversed.src = report.original.dst;
  reversed.dst = report.original.src;
  if (Endpoint* e = lookup(reversed, Repr{quoted.dst_port(), quoted.src_port(), 0, 0})) {
    e->on_error(report);
  }
}

bool Layer::conflicts(const Endpoint& s, Ipv4Address addr, std::uint16_t port) const {
  auto it = by_port_.find(port);
  if (it == by_port_.end()) return false;
  for (const Endpoint* other : it->second) {
    if (other == &s) continue;
    // Both asked to share (SO_REUSEADDR, as Linux's UDP), or both bound to distinct specific
    // addresses: no conflict.
    if (s.reuse_addr && other->reuse_addr) continue;
    if (!addr.is_unspecified() && !other->local_addr.is_unspecified() &&
        addr != other->local_addr) {
      continue;
    }
    return true;
  }
  return false;
}

int Layer::bind(Endpoint& s, Ipv4Address addr, std::uint16_t port) {
  if (s.local_port != 0) return EINVAL;
  // A socket may bind to any of our addresses, INADDR_ANY, or a broadcast/multicast address
  // (to receive only that group's traffic).
  if (!addr.is_unspecified() && !addr.is_multicast() && !ip_.is_local(addr) &&
      !ip_.is_broadcast(addr)) {
    return EADDRNOTAVAIL;
  }
  if (port == 0) {
    port = pick_ephemeral_port(ephemeral_, context_.random(),
                               [&](std::uint16_t p) { return !conflicts(s, addr, p); });
    if (port == 0) return EADDRINUSE;
  } else if (conflicts(s, addr, port)) {
    return EADDRINUSE;
  }
  s.local_addr = addr;
  s.local_port = port;
  s.bound = true;
  by_port_[port].push_back(&s);
  return 0;
}

void Layer::unbind(Endpoint& s) {
  if (s.local_port == 0) return;
  auto it = by_port_.find(s.local_port);
  if (it != by_port_.end()) {
    std::erase(it->second, &s);
    if (it->second.empty()) by_port_.erase(it);
  }
  s.local_port = 0;
  s.bound = false;
}

int Layer::send(Ipv4Address src, std::uint16_t src_port, Ipv4Address dst, std::uint16_t dst_port,
                std::span<const std::uint8_t> data, const ip::SendOptions& options) {
  if (data.size() > max_payload) return EMSGSIZE;
  if (dst_port == 0) return EINVAL;  // as Linux: port 0 is not a destination
  Packet p(header_len + data.size());
  View h(p.bytes());
  h.set_src_port(src_port);
  h.set_dst_port(dst_port);
  h.set_length(static_cast<std::uint16_t>(header_len + data.size()));
  h.set_checksum(0);
  std::copy(data.begin(), data.end(), p.data() + header_len);
  // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
  const std::uint16_t sum = transport_checksum(src, dst, ip::protocol::udp, p.bytes());
  h.set_checksum(sum == 0 ? 0xffff : sum);

  const ip::SendError result = ip_.send(src, dst, ip::protocol::udp, std::move(p), options);
  if (result == ip::SendError::none) context_.stats().udpOutDatagrams++;
  return ip::errno_of(result);
}

}  // namespace tapir::udp
