// The BSD calls on SOCK_STREAM (TCP) sockets, with the errno and poll bits Linux gives.
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stack/socket/api.hpp"
#include "stack/socket/user_values.hpp"

namespace tapir::sock {

namespace {

// Scatters into the iovec array from the connection's receive buffer.
ssize_t receive_into(tcp::Connection& c, msghdr* msg, bool peek) {
  ssize_t total = 0;
  for (std::size_t i = 0; i < msg->msg_iovlen; ++i) {
    auto* base = static_cast<std::uint8_t*>(msg->msg_iov[i].iov_base);
    const std::size_t len = msg->msg_iov[i].iov_len;
    if (len == 0) continue;
    // With MSG_PEEK each piece must start where the previous one ended.
    if (peek && total > 0) break;
    const long n = c.receive({base, len}, peek);
    if (n < 0) return total > 0 ? total : n;
    total += n;
    if (static_cast<std::size_t>(n) < len) break;
  }
  return total;
}

}  // namespace

int Api::stream_connect(StreamSocket& s, const sockaddr* addr, socklen_t len) {
  if (s.endpoint.listener) return -EISCONN;
  if (!addr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return -EINVAL;
  if (tcp::Connection* c = s.endpoint.connection) {
    switch (c->state()) {
      case tcp::State::syn_sent:
      case tcp::State::syn_received:
        return -EALREADY;
      case tcp::State::closed:
        // A failed attempt reports its error once (as a repeated non-blocking connect does);
        // after that the socket may try again.
        if (c->error() != 0) return -c->take_error();
        s.endpoint.connection = nullptr;
        tcp_.release(*c);
        break;
      default:
        return -EISCONN;
    }
  }
  if (addr->sa_family == AF_UNSPEC) return 0;  // nothing to dissolve
  if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return -EINVAL;
  sockaddr_in sin{};
  std::memcpy(&sin, addr, sizeof sin);
  if (sin.sin_family != AF_INET) return -EAFNOSUPPORT;
  const Ipv4Address peer{ntohl(sin.sin_addr.s_addr)};
  const int err = tcp_.connect(s.endpoint, peer, ntohs(sin.sin_port), context_.now());
  if (err != 0) return -err;
  // The handshake runs; a blocking connect() waits for connect_status() (the Host does).
  return -EINPROGRESS;
}

int Api::connect_status(int fd) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (s->kind != Kind::tcp) return -ECONNREFUSED;
  tcp::Connection* c = static_cast<StreamSocket*>(s)->endpoint.connection;
  if (!c) return -ECONNREFUSED;
  switch (c->state()) {
    case tcp::State::syn_sent:
    case tcp::State::syn_received:
      return -EAGAIN;
    case tcp::State::closed: {
      const int err = c->take_error();
      return -(err != 0 ? err : ECONNREFUSED);
    }
    default:
      return 0;
  }
}

int Api::stream_accept(StreamSocket& s, sockaddr* addr, socklen_t* len) {
  if (!s.endpoint.listener) return -EINVAL;
  if (s.endpoint.listener->accept_queue.empty()) return -EAGAIN;
  if (sockets_.size() >= 1024) return -EMFILE;  // the connection stays queued, as in Linux
  tcp::Connection* c = tcp_.accept(s.endpoint);
  auto child = std::make_unique<StreamSocket>();
  child->type = SOCK_STREAM;
  child->protocol = IPPROTO_TCP;
  tcp::Endpoint& e = child->endpoint;
  e.local_addr = c->tuple().local;
  e.local_port = c->tuple().local_port;
  e.peer_addr = c->tuple().remote;
  e.peer_port = c->tuple().remote_port;
  e.connected = true;
  e.options = c->options();
  e.connection = c;
  child->rcvbuf = s.rcvbuf;
  child->sndbuf = s.sndbuf;
  child->linger = s.linger;
  const int fd = add_socket(std::move(child));
  if (addr && len) {
    const sockaddr_in sin = to_sockaddr(c->tuple().remote, c->tuple().remote_port);
    const auto n = std::min<socklen_t>(*len, sizeof sin);
    std::memcpy(addr, &sin, n);
    *len = sizeof sin;
  }
  return fd;
}

ssize_t Api::stream_send(StreamSocket& s, const msghdr* msg, int flags) {
  tcp::Connection* c = s.endpoint.connection;
  // Linux (sk_stream_wait_connect): a socket that is neither connected nor connecting gets
  // EPIPE, a pending error first.
  if (!c) return -EPIPE;
  if (s.shut_wr && c->error() == 0) return -EPIPE;
  // Straight from the caller's buffers into the send buffer, as much as fits: a stream send
  // may be partial, and copying a large request whole first would cost more than the send.
  ssize_t total = 0;
  bool any_data = false;
  for (std::size_t i = 0; i < msg->msg_iovlen; ++i) {
    const std::size_t len = msg->msg_iov[i].iov_len;
    if (len == 0) continue;
    any_data = true;
    const auto* base = static_cast<const std::uint8_t*>(msg->msg_iov[i].iov_base);
    const long n = c->send({base, len}, (flags & MSG_OOB) != 0);
    if (n < 0) return total > 0 ? total : n;
    total += n;
    if (static_cast<std::size_t>(n) < len) break;
  }
  if (!any_data) return c->send({}, false);  // nothing to send, but errors still count
  return total;
}

ssize_t Api::stream_recv(StreamSocket& s, msghdr* msg, int flags) {
  msg->msg_flags = 0;
  msg->msg_namelen = 0;  // tcp(7): no source address
  msg->msg_controllen = 0;
  tcp::Connection* c = s.endpoint.connection;
  if (!c) return -ENOTCONN;
  if (flags & MSG_OOB) {
    std::uint8_t byte = 0;
    const long r = c->receive_urgent(byte, (flags & MSG_PEEK) != 0);
    if (r < 0) return r;
    for (std::size_t i = 0; i < msg->msg_iovlen; ++i) {
      if (msg->msg_iov[i].iov_len == 0) continue;
      *static_cast<std::uint8_t*>(msg->msg_iov[i].iov_base) = byte;
      msg->msg_flags |= MSG_OOB;
      return 1;
    }
    return 0;
  }
  if (c->state() == tcp::State::syn_sent || c->state() == tcp::State::syn_received) {
    return -EAGAIN;
  }
  if (s.shut_rd && c->unread() == 0) return 0;
  return receive_into(*c, msg, (flags & MSG_PEEK) != 0);
}

int Api::stream_shutdown(StreamSocket& s, int how) {
  tcp::Connection* c = s.endpoint.connection;
  if (!c || c->state() == tcp::State::closed || c->state() == tcp::State::syn_sent) {
    return -ENOTCONN;
  }
  if (how != SHUT_WR) s.shut_rd = true;
  if (how != SHUT_RD) {
    s.shut_wr = true;
    c->close_send();
  }
  return 0;
}

int Api::linger_status(int fd, bool start) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (s->kind != Kind::tcp) return 0;
  tcp::Connection* c = static_cast<StreamSocket*>(s)->endpoint.connection;
  if (!c) return 0;
  if (start) c->close_send();
  // Done once the FIN is acknowledged (FIN-WAIT-2, TIME-WAIT) or the connection ended.
  switch (c->state()) {
    case tcp::State::fin_wait_1:
    case tcp::State::closing:
    case tcp::State::last_ack:
    case tcp::State::established:
    case tcp::State::close_wait:
      return -EAGAIN;
    default:
      return 0;
  }
}

std::optional<Duration> Api::linger_timeout(int fd) const {
  const Socket* s = find(fd);
  if (!s || s->kind != Kind::tcp || s->nonblocking) return std::nullopt;
  const auto& stream = static_cast<const StreamSocket&>(*s);
  if (!stream.linger || stream.linger->count() == 0 || !stream.endpoint.connection) {
    return std::nullopt;
  }
  return stream.linger;
}

short Api::stream_poll(const StreamSocket& s, short events) const {
  // As Linux's tcp_poll.
  int revents = 0;
  if (const tcp::Listener* l = s.endpoint.listener) {
    if (!l->accept_queue.empty()) revents |= POLLIN | POLLRDNORM;
    return static_cast<short>(revents & events);
  }
  const tcp::Connection* c = s.endpoint.connection;
  if (!c) {
    // A socket never connected is in CLOSE: hung up, and writable (a write says EPIPE).
    return static_cast<short>(((POLLOUT | POLLWRNORM) & events) | POLLHUP);
  }
  const tcp::State state = c->state();
  const bool opening = state == tcp::State::syn_sent || state == tcp::State::syn_received;
  const bool closed = state == tcp::State::closed;
  if (!opening) {
    if (c->unread() > 0 || c->peer_closed() || s.shut_rd || closed) {
      revents |= POLLIN | POLLRDNORM;
    }
    if (c->peer_closed() || closed) revents |= POLLRDHUP;
    // A write will not block when it is bound to fail (EPIPE), or, like Linux's
    // sk_stream_is_writeable, when a third of the send buffer is free (so a writer is not
    // woken for every few bytes an ACK frees).
    const std::size_t room = c->writable();
    const bool write_fails = c->send_closed() || s.shut_wr || closed;
    if (write_fails || (room > 0 && room >= c->options().sndbuf / 3)) {
      revents |= POLLOUT | POLLWRNORM;
    }
    if (c->has_urgent()) revents |= POLLPRI;
  }
  revents &= events;
  if (c->error() != 0) revents |= POLLERR;
  if (closed || (c->peer_closed() && c->send_closed())) revents |= POLLHUP;
  return static_cast<short>(revents);
}

}  // namespace tapir::sock
