// tapird's TCP services: echo until the client closes, discard until then, daytime's line and
// a close, chargen's stream until the client closes (RFC 862, 863, 867, 864).
#include "tcp_services.hpp"

#include <cerrno>
#include <cstring>

#include <tapir/socket.hpp>

namespace tapird {

std::string TcpServices::open() {
  for (int i = 0; i < kServiceCount; ++i) {
    // Non-blocking: after poll says a listener is readable, it is accepted from until EAGAIN.
    const int fd = tapir::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return close_listeners(std::string("tcp ") + kServiceNames[i] + ": socket: ");
    listeners_[i] = fd;
    const int on = 1;  // a restarted tapird binds at once, despite old connections' TIME-WAIT
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(kServicePorts[i]);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (tapir::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
        tapir::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        tapir::listen(fd, 64) < 0) {
      return close_listeners(std::string("tcp ") + kServiceNames[i] + ": ");
    }
  }
  return "";
}

void TcpServices::start() {
  thread_ = std::thread([this] { run(); });
}

void TcpServices::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& c : connections_) close_now(*c);
  connections_.clear();
  close_listeners("");
}

std::string TcpServices::close_listeners(const std::string& prefix) {
  const std::string error = prefix.empty() ? "" : prefix + std::strerror(errno);
  for (int& fd : listeners_) {
    if (fd >= 0) tapir::close(fd);
    fd = -1;
  }
  return error;
}

short TcpServices::events_for(const Connection& c) {
  if (c.closing) return POLLIN;
  const bool pending = c.out_sent < c.out.size();
  switch (c.service) {
    case echo:
      return static_cast<short>((!c.peer_done && c.out.size() < max_pending ? POLLIN : 0) |
                                (pending ? POLLOUT : 0));
    case chargen:  // always more to send; reading only to see the client's FIN
      return POLLIN | POLLOUT;
    case daytime:
      return static_cast<short>(POLLIN | (pending ? POLLOUT : 0));
    default:  // discard
      return POLLIN;
  }
}

void TcpServices::run() {
  std::vector<pollfd> fds;
  while (!stopping_) {
    fds.clear();
    const bool room = connections_.size() < max_connections;
    for (int fd : listeners_) fds.push_back(pollfd{room ? fd : -1, POLLIN, 0});
    for (const auto& c : connections_) fds.push_back(pollfd{c->fd, events_for(*c), 0});
    if (tapir::poll(fds.data(), fds.size(), tick_ms) < 0) return;  // the Host stopped

    for (std::size_t i = 0; i < connections_.size(); ++i) {
      const short revents = fds[kServiceCount + i].revents;
      if (revents != 0) serve(*connections_[i], revents);
    }
    for (int i = 0; i < kServiceCount; ++i) {
      if (fds[i].revents & POLLIN) accept_all(static_cast<Service>(i));
    }
    const Clock::time_point now = Clock::now();
    for (auto& c : connections_) {
      if (c->closing && now >= c->linger_until) close_now(*c);
    }
    std::erase_if(connections_, [](const auto& c) { return c->dead; });
  }
}

void TcpServices::accept_all(Service service) {
  while (connections_.size() < max_connections) {
    const int fd = tapir::accept(listeners_[service], nullptr, nullptr);
    if (fd < 0) return;  // EAGAIN: none left; ECONNABORTED, EMFILE: at the next round
    // Accepted sockets start blocking, as on Linux; this one thread may never block.
    if (tapir::fcntl(fd, F_SETFL, tapir::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
      tapir::close(fd);
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->service = service;
    // RFC 867: "the server sends the daytime as an ASCII character string... and closes".
    if (service == daytime) c->out = daytime_line();
    serve(*c, 0);  // daytime's line and chargen's first chunk go out now
    if (!c->dead) connections_.push_back(std::move(c));
  }
}

void TcpServices::serve(Connection& c, short revents) {
  if (revents & (POLLERR | POLLNVAL)) return close_now(c);  // reset: nothing more to do
  if (c.closing) return linger(c);
  if (revents & (POLLIN | POLLHUP)) receive(c);
  if (c.dead) return;
  if (c.service == chargen && c.out.size() - c.out_sent < chargen_chunk) {
    // RFC 864: "a stream of data is sent out the connection" until the client ends it.
    for (std::size_t i = 0; i < chargen_chunk; ++i) {
      c.out += chargen_stream_byte(c.chargen_offset++);
    }
  }
  if (!flush(c)) return;
  const bool all_sent = c.out_sent == c.out.size();
  switch (c.service) {
    case echo:  // RFC 862: until the client ends it, with everything echoed
      if (c.peer_done && all_sent) return close_now(c);
      break;
    case daytime:
      if (all_sent) return begin_close(c);
      break;
    default:  // discard, chargen: until the client's FIN
      if (c.peer_done) return close_now(c);
      break;
  }
  // Both directions shut (poll(2)): nothing queued can reach the client any more.
  if (revents & POLLHUP) close_now(c);
}

// Reads what the client sent: kept to be echoed, thrown away by the other services.
void TcpServices::receive(Connection& c) {
  while (!c.peer_done && (c.service != echo || c.out.size() < max_pending)) {
    const ssize_t n = tapir::recv(c.fd, buffer_.data(), buffer_.size(), 0);
    if (n > 0) {
      if (c.service == echo) c.out.append(buffer_.data(), static_cast<std::size_t>(n));
    } else if (n == 0) {
      c.peer_done = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      return close_now(c);  // ECONNRESET, ...
    }
  }
}

// Sends what is queued until the socket is full; false if the connection was closed.
bool TcpServices::flush(Connection& c) {
  while (c.out_sent < c.out.size()) {
    const ssize_t n =
        tapir::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {
      close_now(c);  // EPIPE, ECONNRESET: the client went away
      return false;
    }
    c.out_sent += static_cast<std::size_t>(n);
  }
  if (c.out_sent == c.out.size()) {
    c.out.clear();
    c.out_sent = 0;
  }
  return true;
}

// A close with the client's bytes unread would send a reset (RFC 1122 §4.2.2.13), which may
// destroy daytime's line before the client reads it; so FIN first, then read until theirs.
void TcpServices::begin_close(Connection& c) {
  if (c.peer_done) return close_now(c);
  tapir::shutdown(c.fd, SHUT_WR);
  c.closing = true;
  c.linger_until = Clock::now() + linger_time;
}

void TcpServices::linger(Connection& c) {
  for (;;) {
    const ssize_t n = tapir::recv(c.fd, buffer_.data(), buffer_.size(), 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    return close_now(c);  // their FIN, or an error
  }
}

void TcpServices::close_now(Connection& c) {
  if (c.dead) return;
  tapir::close(c.fd);
  c.dead = true;
}

}  // namespace tapird
