// TCP's socket options: IPPROTO_TCP (tcp(7)) and SO_KEEPALIVE / SO_LINGER / SO_OOBINLINE.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stack/socket/api.hpp"
#include "stack/socket/user_values.hpp"
#include "stack/tcp/info.hpp"

namespace tapir::sock {

namespace {

// tcp(7): TCP_KEEPIDLE and TCP_KEEPINTVL take 1..32767 seconds, TCP_KEEPCNT 1..127.
constexpr int max_keep_seconds = 32767;
constexpr int max_keep_count = 127;

// Linux's TCP_CA_NAME_MAX: the longest algorithm name with its NUL.
constexpr std::size_t tcp_ca_name_max = 16;

}  // namespace

int Api::set_congestion(StreamSocket& s, const void* value, socklen_t len) {
  // As Linux's do_tcp_setsockopt: up to TCP_CA_NAME_MAX - 1 bytes, up to a NUL; an unknown
  // name is ENOENT.
  if (!value || len < 1) return -EINVAL;
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(len), tcp_ca_name_max - 1);
  std::string_view asked(static_cast<const char*>(value), n);
  asked = asked.substr(0, asked.find('\0'));
  for (const std::string_view name : tcp::available_congestion()) {
    if (name == asked) {
      s.endpoint.options.congestion = name;  // the registry's own storage
      apply_tcp_options(s);
      return 0;
    }
  }
  return -ENOENT;
}

void Api::apply_tcp_options(StreamSocket& s) {
  tcp::Endpoint& e = s.endpoint;
  e.options.rcvbuf = static_cast<std::size_t>(s.rcvbuf);
  e.options.sndbuf = static_cast<std::size_t>(s.sndbuf);
  if (e.listener) e.listener->options = e.options;
  if (e.connection) {
    e.connection->options() = e.options;
    e.connection->options_changed(context_.now());
  }
}

int Api::set_tcp_option(StreamSocket& s, int level, int name, const void* value, socklen_t len) {
  tcp::UserOptions& o = s.endpoint.options;
  if (level == SOL_SOCKET) {
    if (name == SO_LINGER) {
      if (!value || len < static_cast<socklen_t>(sizeof(struct linger))) return -EINVAL;
      struct linger l {};
      std::memcpy(&l, value, sizeof l);
      if (l.l_onoff == 0) {
        s.linger.reset();
      } else {
        s.linger = Duration{std::max(l.l_linger, 0) * 1'000'000LL};
      }
      return 0;
    }
    int v = 0;
    if (int err = read_int(value, len, v); err != 0) return err;
    switch (name) {
      case SO_KEEPALIVE:
        o.keepalive = v != 0;
        break;
      case SO_OOBINLINE:
        o.oob_inline = v != 0;
        break;
      default:
        return -ENOPROTOOPT;
    }
    apply_tcp_options(s);
    return 0;
  }
  if (name == TCP_CONGESTION) return set_congestion(s, value, len);
  int v = 0;
  if (int err = read_int(value, len, v); err != 0) return err;
  switch (name) {
    case TCP_NODELAY:
      o.nodelay = v != 0;
      break;
    case TCP_MAXSEG:
      // tcp(7): 88..65535 (TCP_MIN_MSS); 0 restores the default.
      if (v != 0 && (v < 88 || v > 65535)) return -EINVAL;
      o.user_mss = static_cast<std::uint16_t>(v);
      break;
    case TCP_KEEPIDLE:
      if (v < 1 || v > max_keep_seconds) return -EINVAL;
      o.keep_idle = Duration{v * 1'000'000LL};
      break;
    case TCP_KEEPINTVL:
      if (v < 1 || v > max_keep_seconds) return -EINVAL;
      o.keep_interval = Duration{v * 1'000'000LL};
      break;
    case TCP_KEEPCNT:
      if (v < 1 || v > max_keep_count) return -EINVAL;
      o.keep_count = v;
      break;
    default:
      return -ENOPROTOOPT;
  }
  apply_tcp_options(s);
  return 0;
}

int Api::get_tcp_option(const StreamSocket& s, int level, int name, void* value,
                        socklen_t* len) const {
  const tcp::UserOptions& o = s.endpoint.options;
  const tcp::Connection* c = s.endpoint.connection;
  int v = 0;
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_LINGER: {
        struct linger l {};
        l.l_onoff = s.linger ? 1 : 0;
        l.l_linger = s.linger ? static_cast<int>(s.linger->count() / 1'000'000) : 0;
        copy_option(l, value, len);
        return 0;
      }
      case SO_KEEPALIVE:
        v = o.keepalive;
        break;
      case SO_OOBINLINE:
        v = o.oob_inline;
        break;
      case SO_ACCEPTCONN:
        v = s.endpoint.listener != nullptr;
        break;
      default:
        return -ENOPROTOOPT;
    }
    copy_option(v, value, len);
    return 0;
  }
  switch (name) {
    case TCP_INFO: {
      // tcp(7): a shorter buffer gets the prefix and the length copied (Linux's
      // do_tcp_getsockopt); no connection yet reads as CLOSED.
      tcp::TcpInfo info{};
      if (c) {
        info = tcp::gather_info(*c, context_.now());
      } else {
        info.state = s.endpoint.listener ? 10 : 7;  // TCP_LISTEN, TCP_CLOSE
      }
      const auto n = std::min<socklen_t>(*len, sizeof info);
      std::memcpy(value, &info, static_cast<std::size_t>(n));
      *len = n;
      return 0;
    }
    case TCP_CONGESTION: {
      // tcp(7): the name, NUL-padded to TCP_CA_NAME_MAX bytes, cut to the caller's length.
      char text[tcp_ca_name_max] = {};
      const std::string_view cc =
          c ? c->congestion() : (o.congestion.empty() ? tcp_.config().congestion : o.congestion);
      std::memcpy(text, cc.data(), std::min(cc.size(), sizeof text - 1));
      const auto n = std::min<socklen_t>(*len, sizeof text);
      std::memcpy(value, text, n);
      *len = n;
      return 0;
    }
    case TCP_NODELAY:
      v = o.nodelay;
      break;
    case TCP_MAXSEG:
      // tcp(7): before the connection exists, the default (536) or the value set.
      v = c && tcp::synchronized(c->state()) ? c->mss()
          : o.user_mss != 0                  ? o.user_mss
                                             : tcp::default_mss;
      break;
    case TCP_KEEPIDLE:
      v = static_cast<int>(o.keep_idle.count() / 1'000'000);
      break;
    case TCP_KEEPINTVL:
      v = static_cast<int>(o.keep_interval.count() / 1'000'000);
      break;
    case TCP_KEEPCNT:
      v = o.keep_count;
      break;
    default:
      return -ENOPROTOOPT;
  }
  copy_option(v, value, len);
  return 0;
}

}  // namespace tapir::sock
