// Socket: the receive queue bounded by SO_RCVBUF, send options, the socket's group filters.
#include "stack/socket/socket.hpp"

#include <algorithm>
#include <cerrno>

namespace tapir::sock {

bool Socket::enqueue(Message&& m) {
  const std::size_t cost = m.data.size() + message_overhead;
  // As Linux: a queue may overshoot by one message, but nothing is queued once it is full,
  // so memory stays bounded by rcvbuf plus one datagram.
  if (queued_bytes >= static_cast<std::size_t>(rcvbuf)) return false;
  queued_bytes += cost;
  queue.push_back(std::move(m));
  return true;
}

ip::SendOptions Socket::send_options(Ipv4Address dst) const {
  ip::SendOptions options;
  if (ttl > 0) options.ttl = static_cast<std::uint8_t>(ttl);
  options.tos = tos;
  options.dont_route = dont_route;
  if (dst.is_multicast()) {
    // ip(7): IP_TTL does not apply to multicast; IP_MULTICAST_TTL 0 keeps the datagram on
    // this host (RFC 1112 §6.1: the IP layer only loops it back).
    options.ttl = static_cast<std::uint8_t>(multicast_ttl);
    options.netif = multicast_netif;
    options.multicast_loop = multicast_loop;
  }
  return options;
}

Membership* Socket::membership(NetifId netif, Ipv4Address group) {
  for (Membership& m : memberships) {
    if (m.netif == netif && m.group == group) return &m;
  }
  return nullptr;
}

const Membership* Socket::membership(NetifId netif, Ipv4Address group) const {
  return const_cast<Socket*>(this)->membership(netif, group);
}

bool Socket::multicast_allows(NetifId netif, Ipv4Address group, Ipv4Address source) const {
  const Membership* m = membership(netif, group);
  if (!m) return multicast_all;
  const bool listed = m->filter.sources.contains(source);
  return m->filter.mode == igmp::FilterMode::include ? listed : !listed;
}

int errno_of(ip::SendError error) {
  switch (error) {
    case ip::SendError::none:
      return 0;
    case ip::SendError::no_route:
      return ENETUNREACH;
    case ip::SendError::too_big:
      return EMSGSIZE;
    case ip::SendError::bad_source:
      return EADDRNOTAVAIL;
  }
  return EINVAL;
}

}  // namespace tapir::sock
