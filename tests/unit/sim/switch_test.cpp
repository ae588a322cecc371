// Three tapir stacks on one memory switch: the switch learns where each MAC is and stops
// flooding, and every host reaches every other.
#include <catch2/catch.hpp>

#include <vector>

#include "support/network.hpp"

using namespace tapir;
using namespace tapir::test;

TEST_CASE(
    "three stacks on a learning memory switch all ping each other; unicast is no "
    "longer flooded once learned",
    "[sim]") {
  MemorySwitch sw(3);
  std::vector<MemoryPort*> ports;
  Network net;
  std::vector<std::size_t> hosts;
  const char* addresses[] = {"10.0.0.1/24", "10.0.0.2/24", "10.0.0.3/24"};
  const char* macs[] = {"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"};
  for (std::size_t i = 0; i < 3; ++i) {
    auto port = sw.take_port(i);
    ports.push_back(port.get());
    hosts.push_back(net.add_host(addresses[i], macs[i], std::move(port)));
  }
  CHECK_THROWS(sw.take_port(1));  // each port can be taken once
  net.run_for(5s);                // the gratuitous announcements teach the switch every MAC
  REQUIRE(sw.port_of(*MacAddress::parse(macs[2])) == std::size_t{2});

  const std::uint64_t discards_before = net.host(hosts[2]).stats().ifInDiscards;
  int replies = 0;
  for (std::size_t h : hosts) {
    net.host(h).icmp().on_echo_reply([&replies](const icmp::EchoReply&) { ++replies; });
  }
  const std::vector<std::uint8_t> data(32, 0x5a);
  for (std::size_t from = 0; from < 3; ++from) {
    for (std::size_t to = 0; to < 3; ++to) {
      if (from == to) continue;
      const auto dst = Ipv4Cidr::parse(addresses[to])->address;
      net.host(hosts[from]).icmp().send_echo_request(dst, 7, static_cast<std::uint16_t>(to), data);
      net.run_for(1s);
    }
  }
  CHECK(replies == 6);
  CHECK(net.host(hosts[2]).stats().icmpInEchos == 2);
  // Unicast between two learned MACs reaches only its port: host 3's link layer never saw a
  // frame for another MAC (a flooding hub would have shown it hosts 1 and 2's pings).
  CHECK(net.host(hosts[2]).stats().ifInDiscards == discards_before);
}
