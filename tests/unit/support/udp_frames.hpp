// UDP and socket test helpers: datagrams built by libtins, an independent UDP checksum, the
// test's own reassembler, and thin wrappers that let a test call the socket Api with strings.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/socket/api.hpp"
#include "support/harness.hpp"

namespace tapir::test {

// A sockaddr_in for "a.b.c.d":port.
sockaddr_in inet(const std::string& addr, std::uint16_t port);
// "a.b.c.d:port" of a sockaddr_in (what a CHECK prints when it fails).
std::string to_string(const sockaddr_in& sin);

// The Api calls with sockaddr_in and byte vectors instead of casts and lengths.
int bind_to(sock::Api& api, int fd, const std::string& addr, std::uint16_t port);
int connect_to(sock::Api& api, int fd, const std::string& addr, std::uint16_t port);
ssize_t send_to(sock::Api& api, int fd, const Bytes& data, const std::string& addr,
                std::uint16_t port, int flags = 0);
ssize_t send_bytes(sock::Api& api, int fd, const Bytes& data, int flags = 0);
int set_int(sock::Api& api, int fd, int level, int name, int value);
// The int option's value, or the negative errno getsockopt returned.
int get_int(sock::Api& api, int fd, int level, int name);
sockaddr_in local_name(sock::Api& api, int fd);
sockaddr_in peer_name(sock::Api& api, int fd);

// One recvfrom: its return value, the bytes copied, the sender and the flags recvmsg set.
struct Received {
  ssize_t result = 0;
  Bytes data;
  sockaddr_in from{};
  int msg_flags = 0;
};
Received receive(sock::Api& api, int fd, std::size_t buffer = 70000, int flags = 0);

// A UDP datagram (IPv4 header + UDP header + payload) built and checksummed by libtins.
Bytes udp_datagram(const std::string& src, const std::string& dst, std::uint16_t src_port,
                   std::uint16_t dst_port, const Bytes& payload, std::uint8_t ttl = 64,
                   std::uint16_t id = 1);
// Rewrites the UDP checksum field of an IPv4+UDP datagram (the IP header is untouched).
void set_udp_checksum(Bytes& datagram, std::uint16_t checksum);

// An ICMP error (`type`, `code`) from `from` to `to` quoting the IP header and the first 8
// payload bytes of `original` (RFC 792), built by libtins.
Bytes icmp_error_datagram(const std::string& from, const std::string& to, std::uint8_t type,
                          std::uint8_t code, const Bytes& original);

// The UDP checksum (RFC 768) of `segment` between src and dst, computed here with a plain
// one's-complement loop, independent of the stack's code. Over a segment whose checksum
// field is correct it returns 0.
std::uint16_t udp_checksum(Ipv4Address src, Ipv4Address dst, const Bytes& segment);
// True if the UDP checksum of the IPv4 `datagram` (no options) verifies.
bool udp_checksum_ok(const Bytes& datagram);

// The test's own reassembler: the IPv4 datagram the fragments in `frames` (Ethernet frames,
// any order, one datagram) make up, or nullopt if they do not make a whole one.
std::optional<Bytes> reassemble(const std::vector<Bytes>& frames);

}  // namespace tapir::test
