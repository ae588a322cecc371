// The BSD socket calls over one stack, non-blocking, with Linux's errno for every misuse.
#include "stack/socket/api.hpp"

#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "stack/core/bytes.hpp"
#include "stack/link/ethernet.hpp"
#include "stack/socket/user_values.hpp"

namespace tapir::sock {

namespace {

constexpr int first_fd = 3;  // like a process's: 0-2 are never sockets
constexpr int max_sockets = 1024;

// Copies an address into the caller's buffer the way the kernel does: truncated to *len, and
// *len set to the full size (getsockname, recvfrom).
template <typename T>
void copy_out(const T& value, void* out, socklen_t* len) {
  if (!out || !len) return;
  const auto n = std::min<socklen_t>(*len, sizeof(T));
  std::memcpy(out, &value, n);
  *len = sizeof(T);
}

// Gathers an iovec array into one buffer (a datagram is sent whole).
std::vector<std::uint8_t> gather(const msghdr* msg) {
  std::vector<std::uint8_t> out;
  std::size_t total = 0;
  for (std::size_t i = 0; i < msg->msg_iovlen; ++i) total += msg->msg_iov[i].iov_len;
  out.reserve(total);
  for (std::size_t i = 0; i < msg->msg_iovlen; ++i) {
    const auto* base = static_cast<const std::uint8_t*>(msg->msg_iov[i].iov_base);
    out.insert(out.end(), base, base + msg->msg_iov[i].iov_len);
  }
  return out;
}

// Scatters `data` into the iovec array; returns the bytes copied.
std::size_t scatter(msghdr* msg, std::span<const std::uint8_t> data) {
  std::size_t copied = 0;
  for (std::size_t i = 0; i < msg->msg_iovlen && copied < data.size(); ++i) {
    const std::size_t n = std::min(msg->msg_iov[i].iov_len, data.size() - copied);
    if (n == 0) continue;
    std::memcpy(msg->msg_iov[i].iov_base, data.data() + copied, n);
    copied += n;
  }
  return copied;
}

// Appends one control message; sets MSG_CTRUNC when it does not fit (as the kernel's
// put_cmsg).
void put_cmsg(msghdr* msg, std::size_t& used, int level, int type, const void* data,
              std::size_t len) {
  const std::size_t space = CMSG_SPACE(len);
  if (!msg->msg_control || used + space > msg->msg_controllen) {
    msg->msg_flags |= MSG_CTRUNC;
    return;
  }
  auto* cmsg = reinterpret_cast<cmsghdr*>(static_cast<std::uint8_t*>(msg->msg_control) + used);
  cmsg->cmsg_level = level;
  cmsg->cmsg_type = type;
  cmsg->cmsg_len = CMSG_LEN(len);
  std::memcpy(CMSG_DATA(cmsg), data, len);
  used += space;
}

// The AF_INET part of a socket, or nullptr for a packet socket.
InetSocket* inet(Socket& s) {
  return s.kind == Kind::packet ? nullptr : static_cast<InetSocket*>(&s);
}

}  // namespace

Api::Api(Context& context, ip::Layer& ip, igmp::Layer& igmp, udp::Layer& udp, tcp::Layer& tcp)
    : context_(context), interfaces_(ip.interfaces()), ip_(ip), igmp_(igmp), udp_(udp), tcp_(tcp) {}
Api::~Api() = default;

Socket* Api::find(int fd) {
  auto it = sockets_.find(fd);
  return it == sockets_.end() ? nullptr : it->second.get();
}

const Socket* Api::find(int fd) const {
  auto it = sockets_.find(fd);
  return it == sockets_.end() ? nullptr : it->second.get();
}

InetSocket* Api::find_inet(int fd) {
  Socket* s = find(fd);
  return s ? inet(*s) : nullptr;
}

int Api::socket(int domain, int type, int protocol) {
  const bool nonblocking = (type & SOCK_NONBLOCK) != 0;
  type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (type <= 0 || type > SOCK_PACKET) return -EINVAL;
  std::unique_ptr<Socket> s;
  if (domain == AF_INET) {
    switch (type) {
      case SOCK_DGRAM: {
        if (protocol != 0 && protocol != IPPROTO_UDP) return -EPROTONOSUPPORT;
        auto udp = std::make_unique<DatagramSocket>();
        attach(*udp);
        s = std::move(udp);
        s->protocol = IPPROTO_UDP;
        break;
      }
      case SOCK_RAW: {
        // raw(7): protocol 0 is refused; IPPROTO_RAW implies IP_HDRINCL and receives nothing.
        if (protocol <= 0 || protocol > 255) return -EPROTONOSUPPORT;
        auto raw = std::make_unique<RawSocket>();
        raw->hdrincl = protocol == IPPROTO_RAW;
        s = std::move(raw);
        s->protocol = protocol;
        break;
      }
      case SOCK_STREAM:
        if (protocol != 0 && protocol != IPPROTO_TCP) return -EPROTONOSUPPORT;
        s = std::make_unique<StreamSocket>();
        s->protocol = IPPROTO_TCP;
        break;
      default:
        return -ESOCKTNOSUPPORT;
    }
  } else if (domain == AF_PACKET) {
    // packet(7), SOCK_RAW only: whole frames, the protocol an EtherType in network order.
    if (type != SOCK_RAW) return -ESOCKTNOSUPPORT;
    s = std::make_unique<PacketSocket>();
    s->protocol = ntohs(static_cast<std::uint16_t>(protocol));
  } else {
    return -EAFNOSUPPORT;
  }
  s->type = type;
  s->nonblocking = nonblocking;
  return add_socket(std::move(s));
}

void Api::attach(DatagramSocket& s) {
  udp::Endpoint& e = s.endpoint;
  e.on_datagram.set([this, &s](const udp::Datagram& d) {
    Message m;
    m.data.assign(d.data.begin(), d.data.end());
    m.from = d.delivery.header.src;
    m.from_port = d.src_port;
    m.to = d.delivery.header.dst;
    m.netif = d.delivery.netif;
    m.ttl = d.delivery.header.ttl;
    m.tos = d.delivery.header.tos;
    return s.queue.push(std::move(m), s.rcvbuf);
  });
  e.admits.set([&s](NetifId netif, Ipv4Address group, Ipv4Address source) {
    return s.multicast_allows(netif, group, source);
  });
  e.on_error.set([&s](const ip::TransportError& r) {
    // As Linux: without IP_RECVERR only connected sockets hear of hard errors (an unconnected
    // socket cannot tell which of its peers the error is about).
    if (s.recv_err || (s.addr.connected && r.hard)) s.error = r.error;
  });
}

int Api::add_socket(std::unique_ptr<Socket> s) {
  if (sockets_.size() >= max_sockets) return -EMFILE;
  int fd = first_fd;
  for (const auto& [used, _] : sockets_) {
    if (used != fd) break;
    ++fd;
  }
  s->fd = fd;
  if (s->kind == Kind::packet) ++capture_count_;
  sockets_.emplace(fd, std::move(s));
  return fd;
}

int Api::bind(int fd, const sockaddr* addr, socklen_t len) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (s->kind == Kind::packet) {
    auto& p = static_cast<PacketSocket&>(*s);
    if (!addr || len < static_cast<socklen_t>(sizeof(sockaddr_ll))) return -EINVAL;
    sockaddr_ll sll{};
    std::memcpy(&sll, addr, sizeof sll);
    if (sll.sll_family != AF_PACKET) return -EINVAL;
    if (sll.sll_ifindex < 0 || static_cast<std::size_t>(sll.sll_ifindex) > interfaces_.size()) {
      return -ENODEV;
    }
    p.bound_netif = sll.sll_ifindex == 0
                        ? std::nullopt
                        : std::optional<NetifId>(static_cast<NetifId>(sll.sll_ifindex - 1));
    if (sll.sll_protocol != 0) p.protocol = ntohs(sll.sll_protocol);
    p.bound = true;
    return 0;
  }
  InetSocket& in = *inet(*s);
  if (!addr || len < static_cast<socklen_t>(sizeof(sockaddr_in))) return -EINVAL;
  sockaddr_in sin{};
  std::memcpy(&sin, addr, sizeof sin);
  // As Linux's __inet_bind: AF_UNSPEC with INADDR_ANY is taken as AF_INET, for old programs
  // that leave sin_family zero.
  const bool unspec_any = sin.sin_family == AF_UNSPEC && sin.sin_addr.s_addr == htonl(INADDR_ANY);
  if (sin.sin_family != AF_INET && !unspec_any) return -EAFNOSUPPORT;
  const Ipv4Address local{ntohl(sin.sin_addr.s_addr)};
  if (s->kind == Kind::raw) {
    if (!local.is_unspecified() && !ip_.is_local(local)) return -EADDRNOTAVAIL;
    in.addr.local_addr = local;
    in.addr.bound = true;
    in.addr_locked = !local.is_unspecified();
    return 0;
  }
  const std::uint16_t port = ntohs(sin.sin_port);
  if (s->kind == Kind::tcp) {
    if (int err = tcp_.bind(static_cast<StreamSocket&>(in).endpoint, local, port); err != 0) {
      return -err;
    }
    in.addr_locked = !local.is_unspecified();
    in.port_locked = true;
    return 0;
  }
  if (int err = udp_.bind(static_cast<DatagramSocket&>(in).endpoint, local, port); err != 0) {
    return -err;
  }
  in.addr_locked = !local.is_unspecified();
  in.port_locked = port != 0;
  return 0;
}

int Api::connect(int fd, const sockaddr* addr, socklen_t len) {
  Socket* sock = find(fd);
  if (!sock) return -EBADF;
  if (sock->kind == Kind::packet) return -EOPNOTSUPP;
  if (sock->kind == Kind::tcp) return stream_connect(static_cast<StreamSocket&>(*sock), addr, len);
  InetSocket* s = inet(*sock);
  if (!addr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return -EINVAL;
  if (addr->sa_family == AF_UNSPEC) {
    // connect(2): AF_UNSPEC dissolves the association. As Linux's __udp_disconnect, what
    // connect chose implicitly goes too: the local address, and an automatically bound port.
    s->addr.connected = false;
    s->addr.peer_addr = Ipv4Address::any();
    s->addr.peer_port = 0;
    if (!s->addr_locked) s->addr.local_addr = Ipv4Address::any();
    if (s->kind == Kind::udp && !s->port_locked) {
      udp_.unbind(static_cast<DatagramSocket*>(s)->endpoint);
    }
    return 0;
  }
  if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return -EINVAL;
  sockaddr_in sin{};
  std::memcpy(&sin, addr, sizeof sin);
  if (sin.sin_family != AF_INET) return -EAFNOSUPPORT;
  const Ipv4Address peer{ntohl(sin.sin_addr.s_addr)};
  const bool broadcast = ip_.is_broadcast(peer);
  if (broadcast && !s->broadcast) return -EACCES;
  auto source = ip_.source_for(peer);
  if (!source && !broadcast) return -ENETUNREACH;
  if (s->kind == Kind::udp && s->addr.local_port == 0) {
    if (udp_.bind(static_cast<DatagramSocket*>(s)->endpoint, Ipv4Address::any(), 0) != 0) {
      return -EAGAIN;
    }
  }
  // As Linux: an unbound local address becomes the route's source (getsockname shows it).
  if (s->addr.local_addr.is_unspecified() && source) s->addr.local_addr = *source;
  s->addr.peer_addr = peer;
  s->addr.peer_port = ntohs(sin.sin_port);
  s->addr.connected = true;
  return 0;
}

int Api::listen(int fd, int backlog) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (s->kind != Kind::tcp) return -EOPNOTSUPP;
  const int err = tcp_.listen(static_cast<StreamSocket&>(*s).endpoint, backlog);
  return err != 0 ? -err : 0;
}

int Api::accept(int fd, sockaddr* addr, socklen_t* len) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (s->kind != Kind::tcp) return -EOPNOTSUPP;
  return stream_accept(static_cast<StreamSocket&>(*s), addr, len);
}

ssize_t Api::sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* addr,
                    socklen_t addr_len) {
  iovec iov{const_cast<void*>(buf), len};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr*>(addr);
  msg.msg_namelen = addr ? addr_len : 0;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  return sendmsg(fd, &msg, flags);
}

ssize_t Api::recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* addr,
                      socklen_t* addr_len) {
  iovec iov{buf, len};
  msghdr msg{};
  msg.msg_name = addr;
  msg.msg_namelen = addr && addr_len ? *addr_len : 0;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  const ssize_t n = recvmsg(fd, &msg, flags);
  if (n >= 0 && addr && addr_len) *addr_len = msg.msg_namelen;
  return n;
}

ssize_t Api::sendmsg(int fd, const msghdr* msg, int flags) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (!msg || (msg->msg_iovlen > 0 && !msg->msg_iov)) return -EFAULT;
  if (s->kind == Kind::tcp) return stream_send(static_cast<StreamSocket&>(*s), msg, flags);
  if (flags & MSG_OOB) return -EOPNOTSUPP;
  // A pending asynchronous error is reported (and cleared) by the next call, as Linux does.
  if (s->error != 0) return -std::exchange(s->error, 0);
  if (s->shut_wr) return -EPIPE;
  const std::vector<std::uint8_t> data = gather(msg);
  if (s->kind == Kind::packet) {
    return send_packet(static_cast<PacketSocket&>(*s), data,
                       static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen);
  }
  const sockaddr_in* to = nullptr;
  sockaddr_in sin{};
  if (msg->msg_name && msg->msg_namelen > 0) {
    if (msg->msg_namelen < static_cast<socklen_t>(sizeof(sockaddr_in))) return -EINVAL;
    std::memcpy(&sin, msg->msg_name, sizeof sin);
    if (sin.sin_family != AF_INET) return -EAFNOSUPPORT;
    to = &sin;
  }
  InetSocket& in = *inet(*s);
  const bool once_dont_route = (flags & MSG_DONTROUTE) != 0 && !in.dont_route;
  if (once_dont_route) in.dont_route = true;
  const ssize_t n = s->kind == Kind::udp ? send_udp(static_cast<DatagramSocket&>(in), data, to)
                                         : send_raw(static_cast<RawSocket&>(in), data, to);
  if (once_dont_route) in.dont_route = false;
  return n;
}

ssize_t Api::send_udp(DatagramSocket& s, std::span<const std::uint8_t> data,
                      const sockaddr_in* to) {
  Ipv4Address dst = s.addr.peer_addr;
  std::uint16_t port = s.addr.peer_port;
  if (to) {
    dst = Ipv4Address{ntohl(to->sin_addr.s_addr)};
    port = ntohs(to->sin_port);
  } else if (!s.addr.connected) {
    return -EDESTADDRREQ;
  }
  if (data.size() > udp::max_payload) return -EMSGSIZE;
  if (port == 0) return -EINVAL;  // as Linux: port 0 is not a destination
  if (s.addr.local_port == 0) {
    // The implicit bind of a first sendto (udp(7)).
    if (udp_.bind(s.endpoint, Ipv4Address::any(), 0) != 0) return -EAGAIN;
  }
  // Linux: broadcasting needs SO_BROADCAST, else EACCES.
  if (ip_.is_broadcast(dst) && !s.broadcast) return -EACCES;
  const auto src = udp_source(s, dst);
  if (!src) return -ENETUNREACH;
  const int err = udp_.send(*src, s.addr.local_port, dst, port, data, s.send_options(dst));
  return err != 0 ? -err : static_cast<ssize_t>(data.size());
}

std::optional<Ipv4Address> Api::udp_source(const DatagramSocket& s, Ipv4Address dst) const {
  // RFC 1122 §4.1.3.4: the source is the bound address, else the route's (RFC 1122 §3.3.4.3).
  const Ipv4Address bound = s.addr.local_addr;
  if (!bound.is_unspecified() && !bound.is_broadcast() && !bound.is_multicast()) return bound;
  if (dst.is_multicast()) {
    // As Linux's udp_sendmsg: the address given to IP_MULTICAST_IF, else that interface's
    // address, else the one of the interface the datagram leaves by (the route's, or the
    // first).
    if (!s.multicast_addr.is_unspecified()) return s.multicast_addr;
    std::optional<NetifId> out = s.multicast_netif;
    if (!out) {
      if (auto route = ip_.routes().lookup(dst)) {
        out = route->netif;
      } else if (interfaces_.size() > 0) {
        out = NetifId{0};
      }
    }
    if (!out || !interfaces_.contains(*out) || !interfaces_.at(*out).address) return std::nullopt;
    return interfaces_.at(*out).address->address;
  }
  if (auto chosen = ip_.source_for(dst)) return chosen;
  // The limited broadcast without a route leaves by the first interface, from its address.
  if (ip_.is_broadcast(dst) && interfaces_.size() > 0 && interfaces_.at(0).address) {
    return interfaces_.at(0).address->address;
  }
  return std::nullopt;
}

ssize_t Api::send_raw(RawSocket& s, std::span<const std::uint8_t> data, const sockaddr_in* to) {
  Ipv4Address dst = s.addr.peer_addr;
  if (to) {
    dst = Ipv4Address{ntohl(to->sin_addr.s_addr)};
  } else if (!s.addr.connected) {
    return -EDESTADDRREQ;
  }
  const ip::SendOptions options = s.send_options(dst);
  if (ip_.is_broadcast(dst) && !s.broadcast) return -EACCES;
  ip::SendError result;
  if (s.hdrincl) {
    // raw(7) with IP_HDRINCL: the caller's header goes out; the stack fills in the checksum
    // and total length, and the ID when it is zero.
    if (data.size() < ip::min_header_len || data.size() > ip::max_datagram_len) return -EINVAL;
    Packet datagram = Packet::copy_of(data);
    result = ip_.send_datagram(std::move(datagram), options);
  } else {
    if (data.size() + ip::min_header_len > ip::max_datagram_len) return -EMSGSIZE;
    result = ip_.send(s.addr.local_addr, dst, static_cast<std::uint8_t>(s.protocol),
                      Packet::copy_of(data), options);
  }
  const int err = ip::errno_of(result);
  return err != 0 ? -err : static_cast<ssize_t>(data.size());
}

ssize_t Api::send_packet(PacketSocket& s, std::span<const std::uint8_t> data, const sockaddr* to,
                         socklen_t to_len) {
  std::optional<NetifId> netif = s.bound_netif;
  if (to && to_len >= static_cast<socklen_t>(sizeof(sockaddr_ll))) {
    sockaddr_ll sll{};
    std::memcpy(&sll, to, sizeof sll);
    if (sll.sll_ifindex > 0) netif = static_cast<NetifId>(sll.sll_ifindex - 1);
  }
  if (!netif || !interfaces_.contains(*netif)) return -ENXIO;
  Netif& n = interfaces_.at(*netif);
  if (data.size() < eth::header_len) return -EINVAL;
  if (data.size() > n.mtu + eth::header_len) return -EMSGSIZE;
  deliver_frame(n, data, true);
  if (n.transmit) n.transmit(data);
  return static_cast<ssize_t>(data.size());
}

ssize_t Api::recvmsg(int fd, msghdr* msg, int flags) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (!msg || (msg->msg_iovlen > 0 && !msg->msg_iov)) return -EFAULT;
  if (s->kind == Kind::tcp) return stream_recv(static_cast<StreamSocket&>(*s), msg, flags);
  if (flags & MSG_OOB) return -EOPNOTSUPP;
  if (s->error != 0) return -std::exchange(s->error, 0);
  msg->msg_flags = 0;
  MessageQueue& queue = *queue_of(*s);
  if (queue.empty()) {
    if (s->shut_rd) return 0;  // as after a shutdown(SHUT_RD): end of data, not EAGAIN
    return -EAGAIN;
  }
  Message& m = queue.front();
  const std::size_t copied = scatter(msg, m.data);
  if (copied < m.data.size()) msg->msg_flags |= MSG_TRUNC;

  if (msg->msg_name && msg->msg_namelen > 0) {
    if (s->kind == Kind::packet) {
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(m.ethertype);
      sll.sll_ifindex = m.netif + 1;
      sll.sll_hatype = ARPHRD_ETHER;
      sll.sll_pkttype = m.packet_type;
      sll.sll_halen = 6;
      if (m.data.size() >= 12) std::memcpy(sll.sll_addr, m.data.data() + 6, 6);
      copy_out(sll, msg->msg_name, &msg->msg_namelen);
    } else {
      const sockaddr_in sin = to_sockaddr(m.from, m.from_port);
      copy_out(sin, msg->msg_name, &msg->msg_namelen);
    }
  } else {
    msg->msg_namelen = 0;
  }
  std::size_t control_used = 0;
  const InetSocket* in = inet(*s);
  if (in && in->recv_pktinfo) {
    in_pktinfo info{};
    info.ipi_ifindex = m.netif + 1;
    // ipi_spec_dst: the local address a reply would come from (the interface's own).
    Ipv4Address spec = m.to;
    if (interfaces_.contains(m.netif)) {
      const Netif& n = interfaces_.at(m.netif);
      if (n.address) spec = n.address->address;
    }
    info.ipi_spec_dst.s_addr = htonl(spec.value());
    info.ipi_addr.s_addr = htonl(m.to.value());
    put_cmsg(msg, control_used, IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
  }
  if (in && in->recv_ttl) {
    const int ttl = m.ttl;
    put_cmsg(msg, control_used, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  }
  msg->msg_controllen = control_used;

  // recv(2): with MSG_TRUNC the real length is returned even if the buffer was shorter.
  const auto result = static_cast<ssize_t>((flags & MSG_TRUNC) ? m.data.size() : copied);
  if (!(flags & MSG_PEEK)) queue.pop();
  return result;
}

int Api::shutdown(int fd, int how) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return -EINVAL;
  if (s->kind == Kind::tcp) return stream_shutdown(static_cast<StreamSocket&>(*s), how);
  if (how != SHUT_WR) s->shut_rd = true;
  if (how != SHUT_RD) s->shut_wr = true;
  // As Linux's inet_shutdown: the flags are set (so poll wakes up) but an unconnected
  // datagram socket still gets ENOTCONN.
  const InetSocket* in = inet(*s);
  return in && in->addr.connected ? 0 : -ENOTCONN;
}

int Api::close(int fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return -EBADF;
  Socket& s = *it->second;
  if (InetSocket* in = inet(s)) leave_all_groups(*in);
  if (s.kind == Kind::udp) udp_.unbind(static_cast<DatagramSocket&>(s).endpoint);
  if (s.kind == Kind::tcp) {
    // SO_LINGER with a zero timeout closes abortively (RST), as socket(7) says.
    auto& stream = static_cast<StreamSocket&>(s);
    tcp_.close(stream.endpoint, stream.linger && stream.linger->count() == 0);
  }
  if (s.kind == Kind::packet) --capture_count_;
  sockets_.erase(it);
  return 0;
}

int Api::getsockname(int fd, sockaddr* addr, socklen_t* len) {
  const Socket* s = find(fd);
  if (!s) return -EBADF;
  if (!addr || !len) return -EFAULT;
  if (s->kind == Kind::packet) {
    const auto& p = static_cast<const PacketSocket&>(*s);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(static_cast<std::uint16_t>(p.protocol));
    sll.sll_ifindex = p.bound_netif ? *p.bound_netif + 1 : 0;
    copy_out(sll, addr, len);
    return 0;
  }
  const auto& in = static_cast<const InetSocket&>(*s);
  copy_out(to_sockaddr(in.addr.local_addr, in.addr.local_port), addr, len);
  return 0;
}

int Api::getpeername(int fd, sockaddr* addr, socklen_t* len) {
  const Socket* s = find(fd);
  if (!s) return -EBADF;
  if (s->kind == Kind::packet) return -ENOTCONN;
  const auto& in = static_cast<const InetSocket&>(*s);
  if (s->kind == Kind::tcp) {
    const tcp::Connection* c = static_cast<const StreamSocket&>(in).endpoint.connection;
    if (!c || c->state() == tcp::State::syn_sent || c->state() == tcp::State::closed) {
      return -ENOTCONN;
    }
  } else if (!in.addr.connected) {
    return -ENOTCONN;
  }
  if (!addr || !len) return -EFAULT;
  copy_out(to_sockaddr(in.addr.peer_addr, in.addr.peer_port), addr, len);
  return 0;
}

int Api::ioctl(int fd, unsigned long request, int* arg) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  if (request != FIONREAD) return -ENOTTY;
  if (!arg) return -EFAULT;
  if (s->kind == Kind::tcp) {
    // tcp(7): SIOCINQ (FIONREAD) is the amount of unread data; EINVAL on a listener.
    const tcp::Endpoint& e = static_cast<StreamSocket&>(*s).endpoint;
    if (e.listener) return -EINVAL;
    *arg = e.connection ? static_cast<int>(e.connection->unread()) : 0;
    return 0;
  }
  // As Linux for datagram sockets: the size of the next datagram, not the whole queue.
  const MessageQueue& queue = *queue_of(*s);
  *arg = queue.empty() ? 0 : static_cast<int>(queue.front().data.size());
  return 0;
}

int Api::fcntl(int fd, int cmd, int arg) {
  Socket* s = find(fd);
  if (!s) return -EBADF;
  switch (cmd) {
    case F_GETFL:
      return O_RDWR | (s->nonblocking ? O_NONBLOCK : 0);
    case F_SETFL:
      s->nonblocking = (arg & O_NONBLOCK) != 0;
      return 0;
    default:
      return -EINVAL;
  }
}

short Api::poll_events(int fd, short events) const {
  const Socket* s = find(fd);
  if (!s) return POLLNVAL;
  if (s->kind == Kind::tcp) return stream_poll(static_cast<const StreamSocket&>(*s), events);
  // As Linux's datagram_poll.
  int revents = POLLOUT | POLLWRNORM;
  if (!queue_of(*s)->empty() || s->shut_rd) revents |= POLLIN | POLLRDNORM;
  revents &= events;
  if (s->error != 0) revents |= POLLERR;
  if (s->shut_rd && s->shut_wr) revents |= POLLHUP;
  return static_cast<short>(revents);
}

bool Api::deliver_raw(const ip::Delivery& d) {
  bool any = false;
  for (auto& [fd, sock] : sockets_) {
    if (sock->kind != Kind::raw) continue;
    auto* s = static_cast<RawSocket*>(sock.get());
    if (s->protocol != d.header.protocol || s->protocol == IPPROTO_RAW) continue;
    if (!s->addr.local_addr.is_unspecified() && s->addr.local_addr != d.header.dst) continue;
    if (s->addr.connected && s->addr.peer_addr != d.header.src) continue;
    Message m;
    // raw(7): IPv4 raw sockets receive the whole datagram, header included.
    m.data.assign(d.datagram.begin(), d.datagram.end());
    m.from = d.header.src;
    m.to = d.header.dst;
    m.netif = d.netif;
    m.ttl = d.header.ttl;
    m.tos = d.header.tos;
    if (s->queue.push(std::move(m), s->rcvbuf)) {
      context_.stats().rawInDelivers++;
      any = true;
    } else {
      context_.stats().rawRcvbufErrors++;
    }
  }
  return any;
}

void Api::deliver_frame(const Netif& netif, std::span<const std::uint8_t> frame, bool outgoing) {
  const auto header = eth::Repr::parse(frame);
  if (!header) return;
  const MacAddress dst = header->dst;
  const std::uint16_t ethertype = header->ethertype;
  std::uint8_t type = PACKET_OTHERHOST;
  if (outgoing) {
    type = PACKET_OUTGOING;
  } else if (dst == netif.mac) {
    type = PACKET_HOST;
  } else if (dst.is_broadcast()) {
    type = PACKET_BROADCAST;
  } else if (dst.is_multicast()) {
    type = PACKET_MULTICAST;
  }
  for (auto& [fd, sock] : sockets_) {
    if (sock->kind != Kind::packet || sock->shut_rd) continue;
    auto* s = static_cast<PacketSocket*>(sock.get());
    if (s->bound_netif && *s->bound_netif != netif.id) continue;
    if (s->protocol != ETH_P_ALL && s->protocol != ethertype) continue;
    Message m;
    m.data.assign(frame.begin(), frame.end());
    m.netif = netif.id;
    m.packet_type = type;
    m.ethertype = ethertype;
    if (s->queue.push(std::move(m), s->rcvbuf)) {
      context_.stats().packetInDelivers++;
    } else {
      context_.stats().packetRcvbufErrors++;
    }
  }
}

}  // namespace tapir::sock
