// The IGMP tests' own decoder and builders (independent of stack/igmp/message.cpp): frames the
// stack sent are read byte by byte here, and queries/reports to inject are built here.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "support/harness.hpp"

namespace tapir::test::igmp_wire {

inline std::uint16_t be16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
inline std::uint32_t be32(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}
inline std::string dotted(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." +
         std::to_string((a >> 8) & 0xff) + "." + std::to_string(a & 0xff);
}

// RFC 1071, written out again so the tests do not trust the stack's checksum code.
inline std::uint16_t checksum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2)
    sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
  if (n % 2 != 0) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// RFC 3376 §4.2.12 record types.
enum Rec : int { IS_IN = 1, IS_EX = 2, TO_IN = 3, TO_EX = 4, ALLOW = 5, BLOCK = 6 };

struct Record {
  int type = 0;
  std::string group;
  std::set<std::string> sources;
};

struct Sent {
  std::string eth_dst;
  std::string src, dst;
  int ttl = 0;
  bool router_alert = false;
  bool ip_checksum_ok = false;
  bool igmp_checksum_ok = false;
  int type = 0;
  int max_resp = 0;
  std::string group;            // v1/v2 messages
  std::vector<Record> records;  // v3 reports
  Instant at;
};

// Decodes an Ethernet frame the stack sent, or returns false if it is not IGMP.
inline bool decode(const Bytes& f, Sent& out) {
  if (f.size() < 14 + 20 || be16(f, 12) != 0x0800) return false;
  const std::size_t ip = 14;
  const std::size_t ihl = static_cast<std::size_t>(f[ip] & 0x0f) * 4;
  if (f[ip + 9] != 2) return false;
  char mac[18];
  std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", f[0], f[1], f[2], f[3], f[4],
                f[5]);
  out.eth_dst = mac;
  out.ttl = f[ip + 8];
  out.src = dotted(be32(f, ip + 12));
  out.dst = dotted(be32(f, ip + 16));
  out.ip_checksum_ok = checksum(f.data() + ip, ihl) == 0;
  // RFC 2113: option type 148 (0x94), length 4, value 0.
  out.router_alert =
      ihl >= 24 && f[ip + 20] == 0x94 && f[ip + 21] == 4 && f[ip + 22] == 0 && f[ip + 23] == 0;
  const std::size_t total = be16(f, ip + 2);
  const std::size_t g = ip + ihl;
  const std::size_t len = total - ihl;
  out.igmp_checksum_ok = checksum(f.data() + g, len) == 0;
  out.type = f[g];
  out.max_resp = f[g + 1];
  if (out.type != 0x22) {
    out.group = dotted(be32(f, g + 4));
    return true;
  }
  const std::size_t count = be16(f, g + 6);
  std::size_t at = g + 8;
  for (std::size_t i = 0; i < count; ++i) {
    Record r;
    r.type = f[at];
    const std::size_t aux = f[at + 1];
    const std::size_t n = be16(f, at + 2);
    r.group = dotted(be32(f, at + 4));
    for (std::size_t s = 0; s < n; ++s) r.sources.insert(dotted(be32(f, at + 8 + 4 * s)));
    at += 8 + 4 * n + 4 * aux;
    out.records.push_back(r);
  }
  REQUIRE(at == g + len);
  return true;
}

// The IGMP messages sent on interface 0 since the last call, stamped with the current time.
inline std::vector<Sent> take(Harness& h, NetifId netif = 0) {
  std::vector<Sent> out;
  for (const Bytes& f : h.take_bytes(netif)) {
    Sent s;
    s.at = h.now();
    if (decode(f, s)) out.push_back(s);
  }
  return out;
}

// Advances the clock in `step`s up to `limit`, collecting what is sent and when.
inline std::vector<Sent> run_for(Harness& h, Duration limit, Duration step = 10ms) {
  std::vector<Sent> out;
  for (Duration t{}; t < limit; t += step) {
    h.advance(step);
    for (Sent& s : take(h)) out.push_back(s);
  }
  return out;
}

inline std::vector<std::uint8_t> multicast_mac(const std::string& group) {
  const Ipv4Address a = *Ipv4Address::parse(group);
  const std::uint32_t v = a.value();
  return {0x01,
          0x00,
          0x5e,
          static_cast<std::uint8_t>((v >> 16) & 0x7f),
          static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

inline void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 24);
  b[at + 1] = static_cast<std::uint8_t>(v >> 16);
  b[at + 2] = static_cast<std::uint8_t>(v >> 8);
  b[at + 3] = static_cast<std::uint8_t>(v);
}

inline void finish(Bytes& b) {
  b[2] = b[3] = 0;
  const std::uint16_t c = checksum(b.data(), b.size());
  b[2] = static_cast<std::uint8_t>(c >> 8);
  b[3] = static_cast<std::uint8_t>(c);
}

// A v1 (code 0) or v2 (code != 0) query: 8 bytes.
inline Bytes query_v1v2(const std::string& group, std::uint8_t code) {
  Bytes b(8);
  b[0] = 0x11;
  b[1] = code;
  put32(b, 4, Ipv4Address::parse(group)->value());
  finish(b);
  return b;
}

// A v3 query (RFC 3376 §4.1): QRV 2, QQIC 125.
inline Bytes query_v3(const std::string& group, std::uint8_t code,
                      const std::vector<std::string>& sources = {}) {
  Bytes b(12 + 4 * sources.size());
  b[0] = 0x11;
  b[1] = code;
  put32(b, 4, Ipv4Address::parse(group)->value());
  b[8] = 2;
  b[9] = 125;
  b[10] = static_cast<std::uint8_t>(sources.size() >> 8);
  b[11] = static_cast<std::uint8_t>(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    put32(b, 12 + 4 * i, Ipv4Address::parse(sources[i])->value());
  }
  finish(b);
  return b;
}

// A v1/v2 report or leave another host sent.
inline Bytes membership(std::uint8_t type, const std::string& group) {
  Bytes b(8);
  b[0] = type;
  put32(b, 4, Ipv4Address::parse(group)->value());
  finish(b);
  return b;
}

// Injects `igmp` in an IP datagram (TTL 1, Router Alert) to `dst`, in a frame to dst's MAC.
inline void inject(Harness& h, const Bytes& igmp, const std::string& dst,
                   const std::string& src = kPeerIp) {
  Bytes datagram = with_options(ipv4_datagram(src, dst, 2, igmp, 1), {0x94, 0x04, 0x00, 0x00});
  auto mac = multicast_mac(dst);
  MacAddress::Bytes m{};
  std::copy(mac.begin(), mac.end(), m.begin());
  h.inject_bytes(ethernet_frame(datagram, 0x0800, MacAddress{m}));
}

inline Ipv4Address addr(const std::string& s) {
  return *Ipv4Address::parse(s);
}

}  // namespace tapir::test::igmp_wire
