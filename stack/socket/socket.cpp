// Socket: the receive queue bounded by SO_RCVBUF.
#include "stack/socket/socket.hpp"

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

ip::SendOptions Socket::send_options() const {
  ip::SendOptions options;
  options.ttl = ttl > 0 ? static_cast<std::uint8_t>(ttl) : 0;
  options.tos = tos;
  options.dont_route = dont_route;
  return options;
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
