// Socket: the state one BSD-style socket holds, whatever its kind (UDP, raw IP, packet).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/time.hpp"
#include "stack/igmp/igmp.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/link/netif.hpp"
#include "stack/tcp/connection.hpp"

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

struct Socket {
  int fd = -1;
  Kind kind = Kind::udp;
  int type = 0;      // SOCK_DGRAM, SOCK_RAW
  int protocol = 0;  // IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_RAW, or an EtherType (packet)

  // Addresses. A socket is bound once it has a local port (UDP) or a bind() call (raw).
  Ipv4Address local_addr;
  std::uint16_t local_port = 0;
  bool bound = false;
  // Set by an explicit bind() (not by connect's or sendto's implicit one): what connect with
  // AF_UNSPEC must keep (Linux's SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK).
  bool addr_locked = false;
  bool port_locked = false;
  Ipv4Address peer_addr;
  std::uint16_t peer_port = 0;
  bool connected = false;
  std::optional<NetifId> bound_netif;  // packet sockets bound with sockaddr_ll

  // Options (SOL_SOCKET and IPPROTO_IP).
  bool reuse_addr = false;
  bool broadcast = false;
  bool dont_route = false;
  bool hdrincl = false;
  bool recv_pktinfo = false;
  bool recv_ttl = false;
  bool recv_err = false;
  bool nonblocking = false;
  int rcvbuf = default_buffer;
  int sndbuf = default_buffer;
  Duration rcvtimeo{0};  // 0: wait forever
  Duration sndtimeo{0};
  int ttl = -1;  // -1: the stack's default
  std::uint8_t tos = 0;

  // Multicast (ip(7)): what datagrams to a group are sent with, and the groups joined.
  int multicast_ttl = 1;                   // RFC 1112 §6.1: 1 unless asked otherwise
  std::optional<NetifId> multicast_netif;  // IP_MULTICAST_IF; none: the route decides
  Ipv4Address multicast_addr;              // the address IP_MULTICAST_IF was given
  bool multicast_loop = true;
  bool multicast_all = true;  // IP_MULTICAST_ALL: non-members get groups' datagrams too
  std::vector<Membership> memberships;

  // TCP (Kind::tcp): the connection or the listener this socket holds (owned by the TCP
  // layer, which outlives them), the options its connections get, and SO_LINGER.
  tcp::Connection* tcp_conn = nullptr;
  tcp::Listener* tcp_listener = nullptr;
  tcp::UserOptions tcp_options;
  std::optional<Duration> linger;  // SO_LINGER on, with this timeout

  // State.
  int error = 0;  // pending SO_ERROR (a positive errno)
  bool shut_rd = false;
  bool shut_wr = false;
  std::deque<Message> queue;
  std::size_t queued_bytes = 0;

  // Queues `m` unless SO_RCVBUF is full; returns false when it was dropped.
  bool enqueue(Message&& m);
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

// The errno a failed IP send means to a socket user (0 for success).
int errno_of(ip::SendError error);

}  // namespace tapir::sock
