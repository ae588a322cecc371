// A stack on a virtual clock with capture-only interfaces, plus libtins frame builders.
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"

namespace tapir::test {

Harness::Harness(StackConfig config, bool learn_peer) : stack_(std::make_unique<Stack>(config)) {
  add_netif("tap0", kHostIp + "/24", kHostMac.to_string());
  take(0);  // the gratuitous ARP announcement
  if (learn_peer) {
    stack_->arp().add_permanent(0, *Ipv4Address::parse(kPeerIp), kPeerMac);
  }
}

NetifId Harness::add_netif(const std::string& name, const std::string& cidr, const std::string& mac,
                           std::uint32_t mtu) {
  const auto index = sent_.size();
  sent_.emplace_back();
  NetifConfig cfg{name, *MacAddress::parse(mac), mtu, Ipv4Cidr::parse(cidr)};
  return stack_->add_netif(
      cfg,
      [this, index](std::span<const std::uint8_t> frame) {
        sent_[index].emplace_back(frame.begin(), frame.end());
      },
      now_);
}

void Harness::inject(const Tins::EthernetII& frame, NetifId netif) {
  Tins::EthernetII copy = frame;
  inject_bytes(copy.serialize(), netif);
}

void Harness::inject_bytes(const std::vector<std::uint8_t>& frame, NetifId netif) {
  stack_->receive(netif, frame, now_);
}

void Harness::inject_datagram(const std::vector<std::uint8_t>& datagram, NetifId netif,
                              MacAddress src_mac) {
  inject_bytes(ethernet_frame(datagram, 0x0800, stack_->netif(netif).mac, src_mac), netif);
}

void Harness::clear() {
  for (auto& frames : sent_) frames.clear();
}

void Harness::advance(Duration d) {
  now_ += d;
  stack_->advance(now_);
}

std::vector<std::vector<std::uint8_t>> Harness::take_bytes(NetifId netif) {
  return std::exchange(sent_.at(netif), {});
}

std::vector<Tins::EthernetII> Harness::take(NetifId netif) {
  std::vector<Tins::EthernetII> frames;
  for (const auto& bytes : take_bytes(netif)) {
    frames.emplace_back(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
  }
  return frames;
}

Tins::EthernetII from_peer(const Tins::PDU& inner, const std::string& dst_mac,
                           const std::string& src_mac) {
  Tins::EthernetII frame(dst_mac, src_mac);
  frame.inner_pdu(inner.clone());
  return frame;
}

Tins::EthernetII echo_request(std::uint16_t id, std::uint16_t seq, std::size_t payload_size,
                              const std::string& src, const std::string& dst) {
  Tins::ICMP icmp(Tins::ICMP::ECHO_REQUEST);
  icmp.id(id);
  icmp.sequence(seq);
  std::vector<std::uint8_t> data(payload_size);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
  Tins::IP ip(dst, src);
  ip.ttl(64);
  ip /= icmp;
  ip /= Tins::RawPDU(data);
  return from_peer(ip);
}

std::vector<std::uint8_t> bytes_of(Tins::PDU& pdu) {
  return pdu.serialize();
}

Bytes pattern(std::size_t n, std::uint8_t first) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(first + i);
  return out;
}

Bytes ethernet_frame(const Bytes& payload, std::uint16_t ethertype, MacAddress dst,
                     MacAddress src) {
  Bytes frame(14);
  dst.copy_to(frame.data());
  src.copy_to(frame.data() + 6);
  store16(frame.data() + 12, ethertype);
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

Bytes ipv4_datagram(const std::string& src, const std::string& dst, std::uint8_t protocol,
                    const Bytes& payload, std::uint8_t ttl, std::uint16_t id, bool dont_fragment) {
  Tins::IP ip(dst, src);
  ip.ttl(ttl);
  ip.id(id);
  ip.protocol(protocol);
  ip.flags(dont_fragment ? Tins::IP::DONT_FRAGMENT : Tins::IP::Flags(0));
  ip /= Tins::RawPDU(payload);
  Bytes out = ip.serialize();
  // libtins derives the protocol from the inner PDU (a RawPDU leaves ours) and replaces a
  // 0.0.0.0 source by a local address of the machine: write both as asked.
  out[9] = protocol;
  store32(out.data() + 12, Ipv4Address::parse(src)->value());
  store32(out.data() + 16, Ipv4Address::parse(dst)->value());
  fix_ipv4_checksum(out);
  return out;
}

Bytes echo_request_datagram(std::uint16_t id, std::uint16_t seq, std::size_t payload_size,
                            const std::string& src, const std::string& dst, std::uint8_t ttl) {
  Tins::EthernetII frame = echo_request(id, seq, payload_size, src, dst);
  auto& ip = frame.rfind_pdu<Tins::IP>();
  ip.ttl(ttl);
  Bytes out = ip.serialize();
  // As in ipv4_datagram: libtins would replace a 0.0.0.0 source (ICMP has no pseudo-header,
  // so only the IP checksum changes).
  store32(out.data() + 12, Ipv4Address::parse(src)->value());
  store32(out.data() + 16, Ipv4Address::parse(dst)->value());
  fix_ipv4_checksum(out);
  return out;
}

Bytes with_options(const Bytes& datagram, const Bytes& options) {
  Bytes out(datagram.begin(), datagram.begin() + 20);
  out.insert(out.end(), options.begin(), options.end());
  out.insert(out.end(), datagram.begin() + 20, datagram.end());
  out[0] = static_cast<std::uint8_t>(0x40 | ((20 + options.size()) / 4));
  store16(out.data() + 2, static_cast<std::uint16_t>(out.size()));
  fix_ipv4_checksum(out);
  return out;
}

void fix_ipv4_checksum(Bytes& datagram) {
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  store16(datagram.data() + 10, 0);
  store16(datagram.data() + 10, internet_checksum(std::span(datagram).first(ihl)));
}

bool ipv4_checksum_ok(std::span<const std::uint8_t> datagram) {
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  return internet_checksum(datagram.first(ihl)) == 0;
}

Bytes fragment_of(const Bytes& datagram, std::size_t offset, std::size_t length, bool more) {
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  const auto from = datagram.begin() + static_cast<std::ptrdiff_t>(ihl + offset);
  return fragment_with(datagram, offset, Bytes(from, from + static_cast<std::ptrdiff_t>(length)),
                       more);
}

Bytes fragment_with(const Bytes& datagram, std::size_t offset, const Bytes& payload, bool more) {
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  Bytes out(datagram.begin(), datagram.begin() + static_cast<std::ptrdiff_t>(ihl));
  out.insert(out.end(), payload.begin(), payload.end());
  store16(out.data() + 2, static_cast<std::uint16_t>(out.size()));
  const auto flags = static_cast<std::uint16_t>(load16(out.data() + 6) & 0x4000);
  store16(out.data() + 6, static_cast<std::uint16_t>(flags | (more ? 0x2000 : 0) | (offset / 8)));
  fix_ipv4_checksum(out);
  return out;
}

std::vector<Bytes> split_datagram(const Bytes& datagram, std::size_t payload_per_fragment) {
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  const std::size_t payload = datagram.size() - ihl;
  std::vector<Bytes> out;
  for (std::size_t offset = 0; offset < payload; offset += payload_per_fragment) {
    const std::size_t length = std::min(payload_per_fragment, payload - offset);
    out.push_back(fragment_of(datagram, offset, length, offset + length < payload));
  }
  return out;
}

Tins::EthernetII arp_packet(Tins::ARP::Flags op, const std::string& sender_mac,
                            const std::string& sender_ip, const std::string& target_mac,
                            const std::string& target_ip, const std::string& eth_dst) {
  Tins::ARP arp(target_ip, sender_ip, target_mac, sender_mac);
  arp.opcode(op);
  Tins::EthernetII frame(eth_dst, sender_mac);
  frame /= arp;
  return frame;
}

Bytes ipv4_of(const Bytes& frame) {
  Bytes out(frame.begin() + 14, frame.end());
  out.resize(load16(out.data() + 2));
  return out;
}

Tins::EthernetII decode(const Bytes& frame) {
  return Tins::EthernetII(frame.data(), static_cast<std::uint32_t>(frame.size()));
}

void check_icmp_error(const Bytes& frame, std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                      const Bytes& original, const std::string& src, const std::string& dst) {
  Tins::EthernetII eth = decode(frame);
  const auto* ip = eth.find_pdu<Tins::IP>();
  REQUIRE(ip != nullptr);
  CHECK(ip->src_addr() == Tins::IPv4Address(src));
  CHECK(ip->dst_addr() == Tins::IPv4Address(dst));
  CHECK(ip->protocol() == 1);
  const auto* icmp = eth.find_pdu<Tins::ICMP>();
  REQUIRE(icmp != nullptr);
  CHECK(static_cast<int>(icmp->type()) == type);
  CHECK(icmp->code() == code);
  const Bytes datagram = ipv4_of(frame);
  CHECK(ipv4_checksum_ok(datagram));
  REQUIRE(datagram.size() >= 20 + 8);
  const auto message = std::span(datagram).subspan(20);  // we send no options
  CHECK(internet_checksum(message) == 0);
  CHECK(load32(&message[4]) == rest);
  const std::size_t ihl = static_cast<std::size_t>(original[0] & 0x0f) * 4;
  const Bytes quote(message.begin() + 8, message.end());
  // RFC 792: the internet header plus the first 64 bits of the original data.
  CHECK(quote == Bytes(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                                original.size(), ihl + 8))));
}

}  // namespace tapir::test
