// A stack on a virtual clock with capture-only interfaces, plus libtins frame builders.
#include "support/harness.hpp"

namespace tapir::test {

Harness::Harness(StackConfig config, bool learn_peer)
    : stack_(std::make_unique<Stack>(config)) {
  add_netif("tap0", kHostIp + "/24", kHostMac.to_string());
  take(0);  // the gratuitous ARP announcement
  if (learn_peer) {
    stack_->arp().add_permanent(0, *Ipv4Address::parse(kPeerIp), kPeerMac);
  }
}

NetifId Harness::add_netif(const std::string& name, const std::string& cidr,
                           const std::string& mac, std::uint32_t mtu) {
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

std::vector<std::uint8_t> bytes_of(Tins::PDU& pdu) { return pdu.serialize(); }

}  // namespace tapir::test
