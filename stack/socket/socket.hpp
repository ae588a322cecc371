// Sockets: what one BSD-style socket holds, a type per kind (UDP, raw IP, packet, TCP) over a
// base of what every socket has.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/ports.hpp"
#include "stack/core/time.hpp"
#include "stack/igmp/igmp.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/link/netif.hpp"
#include "stack/tcp/tcp.hpp"
#include "stack/udp/udp.hpp"

namespace tapir::sock {

enum class Kind : std::uint8_t { udp, raw, packet, tcp };

// One received datagram (or frame, for packet sockets) with what recvmsg can report of it.
struct Message {
  std::vector<std::uint8_t> data;
  Ipv4Address from;
  std::uint16_t from_port = 0;
  Ipv4Address to;  // the datagram's destination (IP_PKTINFO's ipi_addr)
  NetifId netif = 0;
  std::uint8_t ttl = 0;
  std::uint8_t tos = 0;
  std::uint8_t packet_type = 0;  // packet sockets: PACKET_HOST, PACKET_OUTGOING, ...
  std::uint16_t ethertype = 0;   // packet sockets
};

// Bytes charged to SO_RCVBUF per queued message beyond its data, standing for the buffer
// and bookkeeping the message costs (Linux charges its skb truesize the same way), so a
// flood of empty datagrams is bounded too.
inline constexpr std::size_t message_overhead = 256;

// The receive queue of a message-oriented socket (UDP, raw, packet), bounded by SO_RCVBUF.
class MessageQueue {
 public:
  // Queues `m` unless `limit` bytes are already queued; false when it was dropped.
  bool push(Message&& m, int limit);
  void pop();
  Message& front() { return messages_.front(); }
  const Message& front() const { return messages_.front(); }
  bool empty() const { return messages_.empty(); }
  std::size_t size() const { return messages_.size(); }
  std::size_t bytes() const { return bytes_; }  // what SO_RCVBUF is charged

 private:
  std::deque<Message> messages_;
  std::size_t bytes_ = 0;
};

// One group this socket joined on one interface, with the socket's own source filter
// (RFC 3376 §3.1's socket state; an any-source join is EXCLUDE {}).
struct Membership {
  NetifId netif = 0;
  Ipv4Address group;
  igmp::Filter filter;
};

// Linux's net.ipv4.igmp_max_memberships and igmp_max_msf: groups per socket, and sources
// per group in one socket's filter.
inline constexpr std::size_t max_memberships = 20;
inline constexpr std::size_t max_sources = 10;

// Linux's defaults (net.core.rmem_default / wmem_default).
inline constexpr int default_buffer = 212992;

// What every socket has, whatever its kind.
struct Socket {
  explicit Socket(Kind k) : kind(k) {}
  virtual ~Socket() = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd = -1;
  const Kind kind;
  int type = 0;      // SOCK_DGRAM, SOCK_RAW, SOCK_STREAM
  int protocol = 0;  // IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_RAW, IPPROTO_TCP, or an EtherType

  bool nonblocking = false;
  bool broadcast = false;   // SO_BROADCAST
  bool dont_route = false;  // SO_DONTROUTE
  int rcvbuf = default_buffer;
  int sndbuf = default_buffer;
  Duration rcvtimeo{0};  // 0: wait forever
  Duration sndtimeo{0};

  int error = 0;  // pending SO_ERROR (a positive errno)
  bool shut_rd = false;
  bool shut_wr = false;
};

// What the AF_INET kinds share: their addresses and ports (the transport endpoint's Binding,
// which the derived socket owns), and the IP-level and multicast options (ip(7)).
struct InetSocket : Socket {
  InetSocket(Kind k, Binding& b) : Socket(k), addr(b) {}

  Binding& addr;
  // Set by an explicit bind() (not by connect's or sendto's implicit one): what connect with
  // AF_UNSPEC must keep (Linux's SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK).
  bool addr_locked = false;
  bool port_locked = false;

  bool recv_pktinfo = false;
  bool recv_ttl = false;
  bool recv_err = false;
  int ttl = -1;  // -1: the stack's default
  std::uint8_t tos = 0;

  // Multicast: what datagrams to a group are sent with, and the groups joined.
  int multicast_ttl = 1;                   // RFC 1112 §6.1: 1 unless asked otherwise
  std::optional<NetifId> multicast_netif;  // IP_MULTICAST_IF; none: the route decides
  Ipv4Address multicast_addr;              // the address IP_MULTICAST_IF was given
  bool multicast_loop = true;
  bool multicast_all = true;  // IP_MULTICAST_ALL: non-members get groups' datagrams too
  std::vector<Membership> memberships;

  // What IP_TTL, IP_TOS and SO_DONTROUTE ask of every datagram this socket sends, and, when
  // `dst` is a group, what IP_MULTICAST_TTL, _IF and _LOOP ask instead.
  ip::SendOptions send_options(Ipv4Address dst) const;
  // The membership for `group` on `netif`, if this socket joined it.
  Membership* membership(NetifId netif, Ipv4Address group);
  const Membership* membership(NetifId netif, Ipv4Address group) const;
  // Does this socket's own filter let a datagram from `source` to `group`, arrived on
  // `netif`, through? As Linux's ip_mc_sf_allow: a socket that is no member takes every
  // group's datagrams (IP_MULTICAST_ALL, on by default) if its port and address match.
  bool multicast_allows(NetifId netif, Ipv4Address group, Ipv4Address source) const;
};

// SOCK_DGRAM: a UDP endpoint and the datagrams it received.
struct DatagramSocket : InetSocket {
  DatagramSocket() : InetSocket(Kind::udp, endpoint) {}
  udp::Endpoint endpoint;
  MessageQueue queue;
};

// SOCK_RAW in AF_INET: whole datagrams of one protocol (raw(7)).
struct RawSocket : InetSocket {
  RawSocket() : InetSocket(Kind::raw, binding) {}
  Binding binding;
  bool hdrincl = false;  // IP_HDRINCL: the caller writes the IP header
  MessageQueue queue;
};

// SOCK_STREAM: a TCP endpoint (its listener or connection), and SO_LINGER.
struct StreamSocket : InetSocket {
  StreamSocket() : InetSocket(Kind::tcp, endpoint) {}
  tcp::Endpoint endpoint;
  std::optional<Duration> linger;  // SO_LINGER on, with this timeout
};

// AF_PACKET: whole frames in and out (packet(7)).
struct PacketSocket : Socket {
  PacketSocket() : Socket(Kind::packet) {}
  bool bound = false;
  std::optional<NetifId> bound_netif;  // bound with a sockaddr_ll naming an interface
  bool reuse_addr = false;             // accepted and reported, as Linux does, but unused
  MessageQueue queue;
};

// The kinds with a receive queue of messages.
MessageQueue* queue_of(Socket& s);
const MessageQueue* queue_of(const Socket& s);

}  // namespace tapir::sock
