// Sockets: the receive queue bounded by SO_RCVBUF, send options, the socket's group filters.
#include "stack/socket/socket.hpp"

#include <algorithm>
#include <cerrno>

namespace tapir::sock {

bool MessageQueue::push(Message&& m, int limit) {
  const std::size_t cost = m.data.size() + message_overhead;
  // As Linux: a queue may overshoot by one message, but nothing is queued once it is full,
  // so memory stays bounded by rcvbuf plus one datagram.
  if (bytes_ >= static_cast<std::size_t>(limit)) return false;
  bytes_ += cost;
  messages_.push_back(std::move(m));
  return true;
}

void MessageQueue::pop() {
  bytes_ -= messages_.front().data.size() + message_overhead;
  messages_.pop_front();
}

ip::SendOptions InetSocket::send_options(Ipv4Address dst) const {
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

Membership* InetSocket::membership(NetifId netif, Ipv4Address group) {
  for (Membership& m : memberships) {
    if (m.netif == netif && m.group == group) return &m;
  }
  return nullptr;
}

const Membership* InetSocket::membership(NetifId netif, Ipv4Address group) const {
  return const_cast<InetSocket*>(this)->membership(netif, group);
}

bool InetSocket::multicast_allows(NetifId netif, Ipv4Address group, Ipv4Address source) const {
  const Membership* m = membership(netif, group);
  if (!m) return multicast_all;
  const bool listed = m->filter.sources.contains(source);
  return m->filter.mode == igmp::FilterMode::include ? listed : !listed;
}

MessageQueue* queue_of(Socket& s) {
  switch (s.kind) {
    case Kind::udp:
      return &static_cast<DatagramSocket&>(s).queue;
    case Kind::raw:
      return &static_cast<RawSocket&>(s).queue;
    case Kind::packet:
      return &static_cast<PacketSocket&>(s).queue;
    case Kind::tcp:
      return nullptr;
  }
  return nullptr;
}

const MessageQueue* queue_of(const Socket& s) {
  return queue_of(const_cast<Socket&>(s));
}

}  // namespace tapir::sock
