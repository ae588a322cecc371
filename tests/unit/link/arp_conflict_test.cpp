// ARP packets that claim our own address, and permanent entries replacing pending ones.
#include <catch2/catch.hpp>

#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

Tins::EthernetII arp_from(const std::string& mac, const std::string& sender_ip,
                          const std::string& target_ip, Tins::ARP::Flags op = Tins::ARP::REQUEST) {
  Tins::ARP arp(target_ip, sender_ip, "00:00:00:00:00:00", mac);
  arp.opcode(op);
  Tins::EthernetII frame("ff:ff:ff:ff:ff:ff", mac);
  frame /= arp;
  return frame;
}

}  // namespace

TEST_CASE("an ARP packet claiming our own address creates no entry (RFC 5227 §2.4)", "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(arp_from("02:66:66:66:66:66", kHostIp, kHostIp));
  CHECK(h.stack().arp().find(0, *Ipv4Address::parse(kHostIp)) == nullptr);
  CHECK(h.stats().arpInIgnored == 1);
  CHECK(h.take().empty());
}

TEST_CASE("a permanent entry for a pending address sends the datagrams waiting for it", "[arp]") {
  Harness h(StackConfig{}, false);
  const std::vector<std::uint8_t> data(8, 1);
  REQUIRE(h.stack().icmp().send_echo_request(*Ipv4Address::parse(kPeerIp), 1, 1, data));
  auto request = h.take();
  REQUIRE(request.size() == 1);
  REQUIRE(request[0].find_pdu<Tins::ARP>() != nullptr);
  h.stack().arp().add_permanent(0, *Ipv4Address::parse(kPeerIp), kPeerMac);
  auto sent = h.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].dst_addr() == Tins::HWAddress<6>(kPeerMac.to_string()));
  CHECK(sent[0].rfind_pdu<Tins::ICMP>().type() == Tins::ICMP::ECHO_REQUEST);
  CHECK(h.stack().arp().pending_bytes() == 0);
}
