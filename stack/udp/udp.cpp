// UDP (RFC 768, RFC 1122 §4.1): udp_in demultiplexing, checksums, ports, udp_send.
#include "stack/udp/udp.hpp"

#include <algorithm>
#include <cerrno>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/stack.hpp"

namespace tapir::udp {

std::uint16_t transport_checksum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                 std::span<const std::uint8_t> segment) {
  std::uint8_t pseudo[12];
  store32(pseudo, src.value());
  store32(pseudo + 4, dst.value());
  pseudo[8] = 0;
  pseudo[9] = protocol;
  store16(pseudo + 10, static_cast<std::uint16_t>(segment.size()));
  return checksum_finish(checksum_add(segment, checksum_add(pseudo)));
}

Layer::Layer(Stack& stack, PortRange ephemeral) : stack_(stack), ephemeral_(ephemeral) {}

namespace {

// How well a socket matches a datagram: -1 not at all; higher is more specific
// (a bound local address, then a connected peer), as Linux's compute_score.
int score(const sock::Socket& s, const ip::Repr& ip, const Repr& udp) {
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
bool takes_group(const sock::Socket& s, const ip::Repr& ip, const Repr& udp) {
  if (!s.local_addr.is_unspecified() && s.local_addr != ip.dst) return false;
  if (s.connected && (s.peer_addr != ip.src || s.peer_port != udp.src_port)) return false;
  return true;
}

// The source of a datagram to a group from `s`.
std::optional<Ipv4Address> multicast_source(Stack& stack, const sock::Socket& s,
                                            Ipv4Address group) {
  // As Linux's udp_sendmsg: the address given to IP_MULTICAST_IF, else that interface's
  // address, else the one of the interface the datagram leaves by (the route's, or the first).
  if (!s.multicast_addr.is_unspecified()) return s.multicast_addr;
  std::optional<NetifId> out = s.multicast_netif;
  if (!out) {
    if (auto route = stack.ip().routes().lookup(group)) {
      out = route->netif;
    } else if (stack.netif_count() > 0) {
      out = NetifId{0};
    }
  }
  if (!out || *out >= stack.netif_count() || !stack.netif(*out).address) return std::nullopt;
  return stack.netif(*out).address->address;
}

}  // namespace

sock::Socket* Layer::lookup(const ip::Repr& ip, const Repr& udp) const {
  auto it = by_port_.find(udp.dst_port);
  if (it == by_port_.end()) return nullptr;
  sock::Socket* best = nullptr;
  int best_score = -1;
  for (sock::Socket* s : it->second) {
    const int sc = score(*s, ip, udp);
    if (sc > best_score) {
      best = s;
      best_score = sc;
    }
  }
  return best;
}

void Layer::input(const ip::Delivery& delivery, Packet& payload) {
  Stats& stats = stack_.stats();
  if (payload.size() < header_len) {
    stats.udpInErrors++;
    stats.udpInBadLength++;
    return;
  }
  const std::uint8_t* p = payload.data();
  const Repr udp{load16(p), load16(p + 2), load16(p + 4), load16(p + 6)};
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
  stack_.trace(tapir::Layer::udp, [&] {
    return "in " + delivery.header.src.to_string() + ":" + std::to_string(udp.src_port) + " > " +
           delivery.header.dst.to_string() + ":" + std::to_string(udp.dst_port) + " len " +
           std::to_string(data.size());
  });

  if (delivery.to_group) {
    // Broadcast (and multicast): every matching socket gets its own copy.
    bool any = false;
    if (auto it = by_port_.find(udp.dst_port); it != by_port_.end()) {
      for (sock::Socket* s : it->second) {
        if (!takes_group(*s, delivery.header, udp)) continue;
        // Each socket's own source filter decides for it alone (Linux's ip_mc_sf_allow): the
        // interface state let the datagram in because some member wants it.
        if (delivery.header.dst.is_multicast() &&
            !s->multicast_allows(delivery.netif, delivery.header.dst, delivery.header.src)) {
          continue;
        }
        any |= deliver(*s, delivery, udp, data);
      }
    }
    // RFC 1122 §4.1.3.1: no port unreachable about broadcast/multicast.
    if (!any) stats.udpNoPorts++;
    return;
  }
  if (sock::Socket* s = lookup(delivery.header, udp)) {
    deliver(*s, delivery, udp, data);
    return;
  }
  stats.udpNoPorts++;
  // RFC 1122 §4.1.3.1: SHOULD send port unreachable (the ICMP layer rate-limits it).
  stack_.icmp().send_error(icmp::Type::dest_unreachable, icmp::unreachable::port, 0,
                           delivery.datagram, delivery.errors_forbidden());
}

bool Layer::deliver(sock::Socket& s, const ip::Delivery& d, const Repr& udp,
                    std::span<const std::uint8_t> data) {
  Stats& stats = stack_.stats();
  // After shutdown(SHUT_RD) Linux still queues UDP datagrams and recv still returns them.
  sock::Message m;
  m.data.assign(data.begin(), data.end());
  m.from = d.header.src;
  m.from_port = udp.src_port;
  m.to = d.header.dst;
  m.netif = d.netif;
  m.ttl = d.header.ttl;
  m.tos = d.header.tos;
  if (!s.enqueue(std::move(m))) {
    stats.udpRcvbufErrors++;
    stats.udpInErrors++;
    return false;
  }
  stats.udpInDatagrams++;
  return true;
}

void Layer::error(const icmp::ErrorReport& report) {
  if (report.original_payload.size() < 4) return;
  const Repr udp{load16(report.original_payload.data()), load16(report.original_payload.data() + 2),
                 0, 0};
  // The quoted datagram is one we sent: look it up as if it were coming back, the way Linux's
  // __udp4_lib_err finds the one socket to tell.
  ip::Repr reversed;
  reversed.src = report.original.dst;
  reversed.dst = report.original.src;
  sock::Socket* s = lookup(reversed, Repr{udp.dst_port, udp.src_port, 0, 0});
  if (!s) return;
  int err = 0;
  bool hard = false;  // RFC 1122 §4.2.3.9's "hard" errors, as Linux's icmp_err_convert
  switch (report.message.type) {
    case icmp::Type::dest_unreachable:
      switch (report.message.code) {
        case icmp::unreachable::net:
          err = ENETUNREACH;
          hard = true;
          break;
        case icmp::unreachable::host:
          err = EHOSTUNREACH;
          hard = true;
          break;
        case icmp::unreachable::protocol:
          err = ENOPROTOOPT;
          hard = true;
          break;
        case icmp::unreachable::port:
          err = ECONNREFUSED;
          hard = true;
          break;
        case icmp::unreachable::fragmentation_needed:
          err = EMSGSIZE;
          break;
        default:
          err = EHOSTUNREACH;
          break;
      }
      break;
    case icmp::Type::time_exceeded:
      err = EHOSTUNREACH;
      break;
    case icmp::Type::parameter_problem:
      err = EPROTO;
      hard = true;
      break;
    default:
      return;
  }
  // As Linux: without IP_RECVERR only connected sockets hear of hard errors (an unconnected
  // socket cannot tell which of its peers the error is about).
  if (s->recv_err || (s->connected && hard)) s->error = err;
}

bool Layer::conflicts(const sock::Socket& s, Ipv4Address addr, std::uint16_t port) const {
  auto it = by_port_.find(port);
  if (it == by_port_.end()) return false;
  for (const sock::Socket* other : it->second) {
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

std::uint16_t Layer::pick_ephemeral(const sock::Socket& s, Ipv4Address addr) {
  const std::uint32_t count = std::uint32_t{ephemeral_.last} - ephemeral_.first + 1;
  const auto start = static_cast<std::uint32_t>(stack_.random()() % count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto port = static_cast<std::uint16_t>(ephemeral_.first + (start + i) % count);
    if (!conflicts(s, addr, port)) return port;
  }
  return 0;
}

int Layer::bind(sock::Socket& s, Ipv4Address addr, std::uint16_t port) {
  if (s.local_port != 0) return EINVAL;
  // A socket may bind to any of our addresses, INADDR_ANY, or a broadcast/multicast address
  // (to receive only that group's traffic).
  if (!addr.is_unspecified() && !addr.is_multicast() && !stack_.ip().is_local(addr) &&
      !stack_.ip().is_broadcast(addr)) {
    return EADDRNOTAVAIL;
  }
  if (port == 0) {
    port = pick_ephemeral(s, addr);
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

void Layer::unbind(sock::Socket& s) {
  if (s.local_port == 0) return;
  auto it = by_port_.find(s.local_port);
  if (it != by_port_.end()) {
    std::erase(it->second, &s);
    if (it->second.empty()) by_port_.erase(it);
  }
  s.local_port = 0;
  s.bound = false;
}

int Layer::send(sock::Socket& s, Ipv4Address dst, std::uint16_t port,
                std::span<const std::uint8_t> data) {
  if (data.size() > max_payload) return EMSGSIZE;
  if (port == 0) return EINVAL;  // as Linux: port 0 is not a destination
  if (s.local_port == 0) {
    if (int err = bind(s, Ipv4Address::any(), 0); err != 0) return EAGAIN;
  }
  const bool broadcast = stack_.ip().is_broadcast(dst);
  // Linux: broadcasting needs SO_BROADCAST, else EACCES.
  if (broadcast && !s.broadcast) return EACCES;

  // RFC 1122 §4.1.3.4: the source is the bound address, else the route's (RFC 1122 §3.3.4.3).
  Ipv4Address src = s.local_addr;
  if (src.is_unspecified() || src.is_broadcast() || src.is_multicast()) {
    auto chosen =
        dst.is_multicast() ? multicast_source(stack_, s, dst) : stack_.ip().source_for(dst);
    if (!chosen && broadcast && stack_.netif_count() > 0 && stack_.netif(0).address) {
      chosen = stack_.netif(0).address->address;
    }
    if (!chosen) return ENETUNREACH;
    src = *chosen;
  }
  Packet p(header_len + data.size());
  std::uint8_t* h = p.data();
  store16(h, s.local_port);
  store16(h + 2, port);
  store16(h + 4, static_cast<std::uint16_t>(header_len + data.size()));
  store16(h + 6, 0);
  std::copy(data.begin(), data.end(), h + header_len);
  // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
  std::uint16_t sum = transport_checksum(src, dst, ip::protocol::udp, p.bytes());
  store16(h + 6, sum == 0 ? 0xffff : sum);

  const ip::SendError result =
      stack_.ip().send(src, dst, ip::protocol::udp, std::move(p), s.send_options(dst));
  if (result == ip::SendError::none) stack_.stats().udpOutDatagrams++;
  return sock::errno_of(result);
}

}  // namespace tapir::udp
