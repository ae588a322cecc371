// Socket: the receive queue bounded by SO_RCVBUF.
#include "stack/socket/socket.hpp"

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

}  // namespace tapir::sock
