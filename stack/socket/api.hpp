// The BSD socket calls, non-blocking, over one stack: what the Host's blocking API wraps.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>

#include "stack/core/context.hpp"
#include "stack/core/packet.hpp"
#include "stack/igmp/igmp.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/socket/socket.hpp"
#include "stack/tcp/tcp.hpp"
#include "stack/udp/udp.hpp"

namespace tapir::sock {

// Every call returns what the Linux system call would, except that an error is returned as
// a negative errno (-EAGAIN, -EBADF, ...) instead of -1 with errno set: the core keeps no
// thread-local state, and the Host turns it into -1/errno. Calls never block; where Linux
// would block they return -EAGAIN, and the Host waits and retries.
class Api {
 public:
  Api(Context& context, ip::Layer& ip, igmp::Layer& igmp, udp::Layer& udp, tcp::Layer& tcp);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  int socket(int domain, int type, int protocol);
  int bind(int fd, const sockaddr* addr, socklen_t len);
  int connect(int fd, const sockaddr* addr, socklen_t len);
  int listen(int fd, int backlog);
  int accept(int fd, sockaddr* addr, socklen_t* len);
  ssize_t sendmsg(int fd, const msghdr* msg, int flags);
  ssize_t recvmsg(int fd, msghdr* msg, int flags);
  ssize_t sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* addr,
                 socklen_t addr_len);
  ssize_t recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* addr,
                   socklen_t* addr_len);
  int shutdown(int fd, int how);
  int close(int fd);
  int getsockname(int fd, sockaddr* addr, socklen_t* len);
  int getpeername(int fd, sockaddr* addr, socklen_t* len);
  int setsockopt(int fd, int level, int name, const void* value, socklen_t len);
  int getsockopt(int fd, int level, int name, void* value, socklen_t* len);
  // FIONREAD (the size of the next datagram, as Linux for UDP).
  int ioctl(int fd, unsigned long request, int* arg);
  // F_GETFL / F_SETFL with O_NONBLOCK.
  int fcntl(int fd, int cmd, int arg);
  // The poll(2) revents of `fd` for `events` right now (POLLNVAL for an unknown fd).
  short poll_events(int fd, short events) const;

  // SOCK_STREAM: what a blocking connect() waits for: 0 once connected, -EAGAIN while the
  // handshake runs, else the error that ended it.
  int connect_status(int fd);
  // SO_LINGER with a timeout: the FIN is queued (as shutdown(SHUT_WR) does); returns 0 once
  // everything sent is acknowledged (or the connection is gone), -EAGAIN before.
  int linger_status(int fd, bool start);
  // How long close() on `fd` lingers: a blocking TCP socket with a connection and SO_LINGER
  // set to a timeout above zero (socket(7)); nullopt for every other socket.
  std::optional<Duration> linger_timeout(int fd) const;

  const Socket* find(int fd) const;
  Socket* find(int fd);
  // The AF_INET socket `fd` (UDP, raw or TCP), or nullptr.
  InetSocket* find_inet(int fd);
  std::size_t count() const { return sockets_.size(); }

  // Hooks the stack calls: copies for raw IP sockets (returns whether any socket took one)
  // and for packet capture sockets.
  bool deliver_raw(const ip::Delivery& delivery);
  void deliver_frame(const Netif& netif, std::span<const std::uint8_t> frame, bool outgoing);
  bool has_capture() const { return capture_count_ > 0; }

 private:
  int add_socket(std::unique_ptr<Socket> s);
  // A new UDP socket's endpoint handlers: datagrams, the group filter and errors go to it.
  void attach(DatagramSocket& s);

  // SOCK_STREAM sockets (stream.cpp).
  int stream_connect(StreamSocket& s, const sockaddr* addr, socklen_t len);
  int stream_accept(StreamSocket& s, sockaddr* addr, socklen_t* len);
  ssize_t stream_send(StreamSocket& s, const msghdr* msg, int flags);
  ssize_t stream_recv(StreamSocket& s, msghdr* msg, int flags);
  int stream_shutdown(StreamSocket& s, int how);
  short stream_poll(const StreamSocket& s, short events) const;
  // TCP options (tcp_options.cpp): IPPROTO_TCP, and the SOL_SOCKET ones only TCP uses
  // (`level` tells them apart: SO_LINGER and TCP_CONGESTION are both 13).
  int set_tcp_option(StreamSocket& s, int level, int name, const void* value, socklen_t len);
  int get_tcp_option(const StreamSocket& s, int level, int name, void* value, socklen_t* len) const;
  // Copies the socket's TCP options to its connection or listener after a change.
  void apply_tcp_options(StreamSocket& s);
  int set_congestion(StreamSocket& s, const void* value, socklen_t len);

  ssize_t send_udp(DatagramSocket& s, std::span<const std::uint8_t> data, const sockaddr_in* to);
  ssize_t send_raw(RawSocket& s, std::span<const std::uint8_t> data, const sockaddr_in* to);
  ssize_t send_packet(PacketSocket& s, std::span<const std::uint8_t> data, const sockaddr* to,
                      socklen_t to_len);
  // The source address of a UDP datagram to `dst` (RFC 1122 §4.1.3.4, §3.3.4.3), if any.
  std::optional<Ipv4Address> udp_source(const DatagramSocket& s, Ipv4Address dst) const;
  int set_ip_option(InetSocket& s, int name, const void* value, socklen_t len);
  int set_socket_option(Socket& s, int name, const void* value, socklen_t len);

  // Multicast options (multicast_options.cpp). set/get return -ENOPROTOOPT for any other
  // option name.
  int set_multicast_option(InetSocket& s, int name, const void* value, socklen_t len);
  int get_multicast_option(const InetSocket& s, int name, void* value, socklen_t* len) const;
  int join_group(InetSocket& s, Ipv4Address group, int ifindex, Ipv4Address local);
  int leave_group(InetSocket& s, Ipv4Address group, int ifindex, Ipv4Address local);
  int change_source(InetSocket& s, int name, Ipv4Address group, Ipv4Address local,
                    Ipv4Address source);
  int set_multicast_interface(InetSocket& s, const void* value, socklen_t len);
  // ip_mc_find_dev: the interface a membership request names, if it exists.
  std::optional<NetifId> group_netif(int ifindex, Ipv4Address local, Ipv4Address group) const;
  // Tells the IGMP layer this socket's filter for one membership (nullopt: it left).
  void publish(const InetSocket& s, NetifId netif, Ipv4Address group,
               const std::optional<igmp::Filter>& filter);
  // close(): the socket leaves every group it joined (ip_mc_drop_socket).
  void leave_all_groups(InetSocket& s);

  Context& context_;
  Interfaces& interfaces_;
  ip::Layer& ip_;
  igmp::Layer& igmp_;
  udp::Layer& udp_;
  tcp::Layer& tcp_;
  std::map<int, std::unique_ptr<Socket>> sockets_;  // ordered: the lowest free fd is reused
  int capture_count_ = 0;
};

}  // namespace tapir::sock
