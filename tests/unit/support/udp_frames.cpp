// UDP and socket test helpers: libtins-built datagrams, an independent checksum, reassembly.
#include "support/udp_frames.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "stack/core/bytes.hpp"

namespace tapir::test {

sockaddr_in inet(const std::string& addr, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(Ipv4Address::parse(addr)->value());
  return sin;
}

std::string to_string(const sockaddr_in& sin) {
  return Ipv4Address{ntohl(sin.sin_addr.s_addr)}.to_string() + ":" +
         std::to_string(ntohs(sin.sin_port));
}

int bind_to(sock::Api& api, int fd, const std::string& addr, std::uint16_t port) {
  const sockaddr_in sin = inet(addr, port);
  return api.bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

int connect_to(sock::Api& api, int fd, const std::string& addr, std::uint16_t port) {
  const sockaddr_in sin = inet(addr, port);
  return api.connect(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

ssize_t send_to(sock::Api& api, int fd, const Bytes& data, const std::string& addr,
                std::uint16_t port, int flags) {
  const sockaddr_in sin = inet(addr, port);
  return api.sendto(fd, data.data(), data.size(), flags, reinterpret_cast<const sockaddr*>(&sin),
                    sizeof sin);
}

ssize_t send_bytes(sock::Api& api, int fd, const Bytes& data, int flags) {
  return api.sendto(fd, data.data(), data.size(), flags, nullptr, 0);
}

int set_int(sock::Api& api, int fd, int level, int name, int value) {
  return api.setsockopt(fd, level, name, &value, sizeof value);
}

int get_int(sock::Api& api, int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  const int rc = api.getsockopt(fd, level, name, &value, &len);
  return rc < 0 ? rc : value;
}

sockaddr_in local_name(sock::Api& api, int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  api.getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  return sin;
}

sockaddr_in peer_name(sock::Api& api, int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  api.getpeername(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  return sin;
}

Received receive(sock::Api& api, int fd, std::size_t buffer, int flags) {
  Received r;
  r.data.resize(buffer);
  iovec iov{r.data.data(), r.data.size()};
  msghdr msg{};
  msg.msg_name = &r.from;
  msg.msg_namelen = sizeof r.from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  r.result = api.recvmsg(fd, &msg, flags);
  r.msg_flags = msg.msg_flags;
  const auto copied =
      r.result < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(r.result), buffer);
  r.data.resize(copied);
  return r;
}

Bytes udp_datagram(const std::string& src, const std::string& dst, std::uint16_t src_port,
                   std::uint16_t dst_port, const Bytes& payload, std::uint8_t ttl,
                   std::uint16_t id) {
  Tins::IP ip(dst, src);
  ip.ttl(ttl);
  ip.id(id);
  Tins::UDP udp(dst_port, src_port);
  if (!payload.empty()) udp /= Tins::RawPDU(payload);
  ip /= udp;
  return ip.serialize();
}

void set_udp_checksum(Bytes& datagram, std::uint16_t checksum) {
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  store16(datagram.data() + ihl + 6, checksum);
}

Bytes icmp_error_datagram(const std::string& from, const std::string& to, std::uint8_t type,
                          std::uint8_t code, const Bytes& original) {
  const std::size_t ihl = static_cast<std::size_t>(original[0] & 0x0f) * 4;
  const Bytes quote(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(
                                                             std::min(original.size(), ihl + 8)));
  Tins::IP ip(to, from);
  Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
  icmp.code(code);
  icmp /= Tins::RawPDU(quote);
  ip /= icmp;
  return ip.serialize();
}

std::uint16_t udp_checksum(Ipv4Address src, Ipv4Address dst, const Bytes& segment) {
  std::uint32_t sum = 0;
  sum += src.value() >> 16;
  sum += src.value() & 0xffff;
  sum += dst.value() >> 16;
  sum += dst.value() & 0xffff;
  sum += 17;  // zero byte, protocol
  sum += static_cast<std::uint32_t>(segment.size());
  for (std::size_t i = 0; i < segment.size(); i += 2) {
    const std::uint32_t hi = segment[i];
    const std::uint32_t lo = i + 1 < segment.size() ? segment[i + 1] : 0;
    sum += (hi << 8) | lo;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

bool udp_checksum_ok(const Bytes& datagram) {
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  const Bytes segment(datagram.begin() + static_cast<std::ptrdiff_t>(ihl), datagram.end());
  return udp_checksum(Ipv4Address{load32(datagram.data() + 12)},
                      Ipv4Address{load32(datagram.data() + 16)}, segment) == 0;
}

std::optional<Bytes> reassemble(const std::vector<Bytes>& frames) {
  std::map<std::size_t, Bytes> pieces;  // by fragment offset
  Bytes header;
  std::optional<std::size_t> end;
  std::optional<std::uint16_t> id;
  for (const Bytes& frame : frames) {
    const Bytes datagram = ipv4_of(frame);
    const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
    const std::uint16_t frag = load16(datagram.data() + 6);
    const std::size_t offset = static_cast<std::size_t>(frag & 0x1fff) * 8;
    const bool more = (frag & 0x2000) != 0;
    if (id && *id != load16(datagram.data() + 4)) return std::nullopt;
    id = load16(datagram.data() + 4);
    Bytes payload(datagram.begin() + static_cast<std::ptrdiff_t>(ihl), datagram.end());
    if (offset == 0)
      header.assign(datagram.begin(), datagram.begin() + static_cast<std::ptrdiff_t>(ihl));
    if (!more) end = offset + payload.size();
    pieces.emplace(offset, std::move(payload));
  }
  if (header.empty() || !end) return std::nullopt;
  Bytes out = header;
  for (const auto& [offset, payload] : pieces) {
    if (offset != out.size() - header.size()) return std::nullopt;  // a hole or an overlap
    out.insert(out.end(), payload.begin(), payload.end());
  }
  if (out.size() - header.size() != *end) return std::nullopt;
  store16(out.data() + 2, static_cast<std::uint16_t>(out.size()));
  store16(out.data() + 6, static_cast<std::uint16_t>(load16(out.data() + 6) & 0x4000));
  fix_ipv4_checksum(out);
  return out;
}

}  // namespace tapir::test
