// The socket options (setsockopt/getsockopt at SOL_SOCKET and IPPROTO_IP), as Linux reads them.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "stack/socket/api.hpp"
#include "stack/socket/user_values.hpp"

namespace tapir::sock {

namespace {

constexpr int buffer_max = default_buffer;  // net.core.rmem_max / wmem_max
constexpr int rcvbuf_min = 2304;            // SOCK_MIN_RCVBUF
constexpr int sndbuf_min = 4608;            // SOCK_MIN_SNDBUF

int capped_buffer(int requested) {
  return static_cast<int>(
      std::min<std::uint32_t>(static_cast<std::uint32_t>(requested), buffer_max));
}

int read_timeval(const void* value, socklen_t len, Duration& out) {
  if (!value || len < static_cast<socklen_t>(sizeof(timeval))) return -EINVAL;
  timeval tv{};
  std::memcpy(&tv, value, sizeof tv);
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return -EDOM;
  // Linux: a negative timeout, or one too long to count in microseconds, means "wait
  // forever", like zero.
  constexpr auto max_seconds = std::numeric_limits<std::int64_t>::max() / 1000000 - 1;
  if (tv.tv_sec < 0 || tv.tv_sec > max_seconds) {
    out = Duration{0};
    return 0;
  }
  out = Duration{static_cast<std::int64_t>(tv.tv_sec) * 1000000LL + tv.tv_usec};
  return 0;
}

int forced_buffer(int requested) {
  return std::clamp(requested, 0, std::numeric_limits<int>::max() / 2);
}

timeval to_timeval(Duration d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(d.count() % 1000000);
  return tv;
}

}  // namespace

int Api::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  auto* stream = s->kind == Kind::tcp ? static_cast<StreamSocket*>(s) : nullptr;
  if (level == SOL_SOCKET) {
    const bool tcp_only = name == SO_KEEPALIVE || name == SO_LINGER || name == SO_OOBINLINE;
    if (tcp_only) return stream ? set_tcp_option(*stream, SOL_SOCKET, name, value, len) : 0;
    const int r = set_socket_option(*s, name, value, len);
    const bool buffer =
        name == SO_RCVBUF || name == SO_SNDBUF || name == SO_RCVBUFFORCE || name == SO_SNDBUFFORCE;
    if (r == 0 && stream && buffer) apply_tcp_options(*stream);
    return r;
  }
  if (level == IPPROTO_TCP) {
    return stream ? set_tcp_option(*stream, IPPROTO_TCP, name, value, len) : -ENOPROTOOPT;
  }
  if (level == IPPROTO_IP && s->kind != Kind::packet) {
    return set_ip_option(static_cast<InetSocket&>(*s), name, value, len);
  }
  return -ENOPROTOOPT;
}

int Api::set_socket_option(Socket& s, int name, const void* value, socklen_t len) {
  if (name == SO_RCVTIMEO) return read_timeval(value, len, s.rcvtimeo);
  if (name == SO_SNDTIMEO) return read_timeval(value, len, s.sndtimeo);
  int v = 0;
  if (int err = read_int(value, len, v); err != 0) return err;
  auto* in = s.kind == Kind::packet ? nullptr : static_cast<InetSocket*>(&s);
  switch (name) {
    case SO_REUSEADDR:
      (in ? in->addr.reuse_addr : static_cast<PacketSocket&>(s).reuse_addr) = v != 0;
      return 0;
    case SO_BROADCAST:
      s.broadcast = v != 0;
      return 0;
    case SO_DONTROUTE:
      s.dont_route = v != 0;
      return 0;
    case SO_RCVBUF:
      // socket(7): the kernel doubles the value (for bookkeeping), within its limits.
      // The value is unsigned to Linux: a negative one asks for the maximum.
      s.rcvbuf = std::max(rcvbuf_min, capped_buffer(v) * 2);
      return 0;
    case SO_SNDBUF:
      s.sndbuf = std::max(sndbuf_min, capped_buffer(v) * 2);
      return 0;
    case SO_RCVBUFFORCE:
      // socket(7): as SO_RCVBUF without the rmem_max cap. Linux asks for CAP_NET_ADMIN; the
      // process that owns a tapir stack is its administrator. A negative value is taken as 0
      // (sock_setsockopt), and INT_MAX / 2 is the most that can be doubled.
      s.rcvbuf = std::max(rcvbuf_min, forced_buffer(v) * 2);
      return 0;
    case SO_SNDBUFFORCE:
      s.sndbuf = std::max(sndbuf_min, forced_buffer(v) * 2);
      return 0;
    default:
      return -ENOPROTOOPT;  // includes SO_TYPE and SO_ERROR, which are read-only
  }
}

int Api::set_ip_option(InetSocket& s, int name, const void* value, socklen_t len) {
  if (int r = set_multicast_option(s, name, value, len); r != -ENOPROTOOPT) return r;
  int v = 0;
  // As Linux's do_ip_setsockopt: an int, or a single byte when optlen is 1 to 3.
  if (value && len >= 1 && len < static_cast<socklen_t>(sizeof(int))) {
    v = *static_cast<const std::uint8_t*>(value);
  } else if (int err = read_int(value, len, v); err != 0) {
    return err;
  }
  switch (name) {
    case IP_TTL:
      // ip(7): 1..255, or -1 for the default.
      if (v == -1) {
        s.ttl = -1;
        return 0;
      }
      if (v < 1 || v > 255) return -EINVAL;
      s.ttl = v;
      return 0;
    case IP_TOS:
      s.tos = static_cast<std::uint8_t>(v);
      return 0;
    case IP_HDRINCL:
      if (s.kind != Kind::raw) return -ENOPROTOOPT;
      static_cast<RawSocket&>(s).hdrincl = v != 0;
      return 0;
    case IP_PKTINFO:
      s.recv_pktinfo = v != 0;
      return 0;
    case IP_RECVTTL:
      s.recv_ttl = v != 0;
      return 0;
    case IP_RECVERR:
      s.recv_err = v != 0;
      return 0;
    default:
      return -ENOPROTOOPT;
  }
}

int Api::getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (!value || !len) return -EFAULT;
  int v = 0;
  const auto* stream = s->kind == Kind::tcp ? static_cast<const StreamSocket*>(s) : nullptr;
  const auto* in = s->kind == Kind::packet ? nullptr : static_cast<const InetSocket*>(s);
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_RCVTIMEO:
        copy_option(to_timeval(s->rcvtimeo), value, len);
        return 0;
      case SO_SNDTIMEO:
        copy_option(to_timeval(s->sndtimeo), value, len);
        return 0;
      case SO_ERROR:
        v = stream && stream->endpoint.connection ? stream->endpoint.connection->take_error()
                                                  : std::exchange(s->error, 0);
        break;
      case SO_KEEPALIVE:
      case SO_LINGER:
      case SO_OOBINLINE:
      case SO_ACCEPTCONN:
        if (stream) return get_tcp_option(*stream, SOL_SOCKET, name, value, len);
        v = 0;
        break;
      case SO_TYPE:
        v = s->type;
        break;
      case SO_REUSEADDR:
        v = in ? in->addr.reuse_addr : static_cast<const PacketSocket*>(s)->reuse_addr;
        break;
      case SO_BROADCAST:
        v = s->broadcast;
        break;
      case SO_DONTROUTE:
        v = s->dont_route;
        break;
      case SO_RCVBUF:
        v = s->rcvbuf;
        break;
      case SO_SNDBUF:
        v = s->sndbuf;
        break;
      case SO_PROTOCOL:
        v = s->protocol;
        break;
      case SO_DOMAIN:
        v = s->kind == Kind::packet ? AF_PACKET : AF_INET;
        break;
      default:
        return -ENOPROTOOPT;
    }
  } else if (level == IPPROTO_TCP) {
    if (!stream) return -ENOPROTOOPT;  // as Linux: UDP passes it to IP
    return get_tcp_option(*stream, IPPROTO_TCP, name, value, len);
  } else if (level == IPPROTO_IP && in) {
    if (int r = get_multicast_option(*in, name, value, len); r != -ENOPROTOOPT) return r;
    switch (name) {
      case IP_TTL:
        v = in->ttl > 0 ? in->ttl : ip_.config().default_ttl;
        break;
      case IP_TOS:
        v = in->tos;
        break;
      case IP_HDRINCL:
        v = s->kind == Kind::raw && static_cast<const RawSocket*>(s)->hdrincl;
        break;
      case IP_PKTINFO:
        v = in->recv_pktinfo;
        break;
      case IP_RECVTTL:
        v = in->recv_ttl;
        break;
      case IP_RECVERR:
        v = in->recv_err;
        break;
      default:
        return -ENOPROTOOPT;
    }
  } else {
    return -ENOPROTOOPT;
  }
  copy_option(v, value, len);
  return 0;
}

}  // namespace tapir::sock
