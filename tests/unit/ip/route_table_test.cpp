// Tests of RouteTable: longest-prefix match, replacement and removal.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "stack/ip/route_table.hpp"

using namespace tapir;
using tapir::ip::Route;
using tapir::ip::RouteTable;

namespace {

Ipv4Cidr cidr(const char* text) {
  return *Ipv4Cidr::parse(text);
}
Ipv4Address addr(const char* text) {
  return *Ipv4Address::parse(text);
}

Route connected(const char* net, NetifId netif) {
  return Route{cidr(net), std::nullopt, netif, 0};
}
Route via(const char* net, const char* gateway, NetifId netif) {
  return Route{cidr(net), addr(gateway), netif, 0};
}

}  // namespace

TEST_CASE("an empty table has no route to anywhere", "[route]") {
  RouteTable table;
  CHECK(table.size() == 0);
  CHECK_FALSE(table.lookup(addr("10.0.0.1")).has_value());
  CHECK_FALSE(table.lookup(addr("0.0.0.0")).has_value());
  CHECK(table.routes().empty());
}

TEST_CASE("the default route matches every destination", "[route]") {
  RouteTable table;
  table.add(via("0.0.0.0/0", "10.0.0.1", 1));
  for (const char* dst : {"0.0.0.0", "8.8.8.8", "10.0.0.77", "255.255.255.255"}) {
    const auto route = table.lookup(addr(dst));
    REQUIRE(route.has_value());
    CHECK(route->gateway == addr("10.0.0.1"));
    CHECK(route->netif == 1);
  }
}

TEST_CASE("a /32 beats a /24, which beats the default route", "[route]") {
  RouteTable table;
  table.add(via("0.0.0.0/0", "10.0.0.1", 1));
  table.add(connected("192.168.1.0/24", 2));
  table.add(via("192.168.1.7/32", "10.0.0.9", 3));
  CHECK(table.lookup(addr("192.168.1.7"))->netif == 3);
  CHECK(table.lookup(addr("192.168.1.7"))->gateway == addr("10.0.0.9"));
  CHECK(table.lookup(addr("192.168.1.8"))->netif == 2);
  CHECK_FALSE(table.lookup(addr("192.168.1.8"))->gateway.has_value());
  CHECK(table.lookup(addr("192.168.2.7"))->netif == 1);
  CHECK(table.size() == 3);
}

TEST_CASE("a prefix matches only on its own bits", "[route]") {
  RouteTable table;
  table.add(connected("10.0.0.0/9", 1));
  CHECK(table.lookup(addr("10.127.255.255")).has_value());
  CHECK_FALSE(table.lookup(addr("10.128.0.0")).has_value());
  CHECK_FALSE(table.lookup(addr("11.0.0.0")).has_value());
}

TEST_CASE("adding the same destination replaces its route", "[route]") {
  RouteTable table;
  table.add(via("10.1.0.0/16", "10.0.0.1", 1));
  table.add(Route{cidr("10.1.0.0/16"), addr("10.0.0.2"), 2, 5});
  CHECK(table.size() == 1);
  const auto route = table.lookup(addr("10.1.2.3"));
  REQUIRE(route.has_value());
  CHECK(route->gateway == addr("10.0.0.2"));
  CHECK(route->netif == 2);
  CHECK(route->metric == 5);
  // Same network, another length: a different destination, kept alongside.
  table.add(via("10.1.0.0/17", "10.0.0.3", 3));
  CHECK(table.size() == 2);
}

TEST_CASE("a destination's host bits are ignored", "[route]") {
  RouteTable table;
  table.add(connected("10.0.0.2/24", 1));  // as an interface address is written
  CHECK(table.lookup(addr("10.0.0.200"))->destination == cidr("10.0.0.0/24"));
  table.add(connected("10.0.0.99/24", 2));  // the same network: a replacement
  CHECK(table.size() == 1);
  CHECK(table.lookup(addr("10.0.0.1"))->netif == 2);
  CHECK(table.remove(cidr("10.0.0.5/24")));
  CHECK(table.size() == 0);
}

TEST_CASE("remove takes out one destination and lookup falls back to a shorter prefix", "[route]") {
  RouteTable table;
  table.add(via("0.0.0.0/0", "10.0.0.1", 1));
  table.add(connected("10.0.0.0/24", 1));
  table.add(via("10.0.0.128/25", "10.0.0.1", 2));
  CHECK(table.lookup(addr("10.0.0.200"))->netif == 2);
  CHECK(table.remove(cidr("10.0.0.128/25")));
  CHECK(table.size() == 2);
  CHECK(table.lookup(addr("10.0.0.200"))->destination == cidr("10.0.0.0/24"));
  CHECK_FALSE(table.remove(cidr("10.0.0.128/25")));  // already gone
  CHECK_FALSE(table.remove(cidr("10.0.0.0/23")));    // never there
  CHECK(table.remove(cidr("0.0.0.0/0")));
  CHECK_FALSE(table.lookup(addr("8.8.8.8")).has_value());
  CHECK(table.size() == 1);
}

TEST_CASE("remove_netif drops every route through that interface and no other", "[route]") {
  RouteTable table;
  table.add(via("0.0.0.0/0", "10.0.0.1", 1));
  table.add(connected("10.0.0.0/24", 1));
  table.add(connected("10.0.1.0/24", 2));
  table.add(via("172.16.0.0/12", "10.0.1.1", 2));
  table.add(via("172.16.5.5/32", "10.0.0.1", 1));
  table.remove_netif(1);
  CHECK(table.size() == 2);
  CHECK_FALSE(table.lookup(addr("10.0.0.5")).has_value());
  CHECK_FALSE(table.lookup(addr("8.8.8.8")).has_value());
  CHECK(table.lookup(addr("172.16.5.5"))->netif == 2);  // the /12 now
  CHECK(table.lookup(addr("10.0.1.5"))->netif == 2);
  table.remove_netif(7);  // no such interface
  CHECK(table.size() == 2);
  table.remove_netif(2);
  CHECK(table.size() == 0);
  CHECK(table.routes().empty());
}

TEST_CASE("routes() lists the longest prefix first", "[route]") {
  RouteTable table;
  table.add(via("0.0.0.0/0", "10.0.0.1", 1));
  table.add(connected("10.0.1.0/24", 2));
  table.add(via("10.9.9.9/32", "10.0.0.1", 1));
  table.add(connected("10.0.0.0/24", 1));
  table.add(via("172.16.0.0/12", "10.0.1.1", 2));
  std::vector<Ipv4Cidr> order;
  for (const Route& r : table.routes()) order.push_back(r.destination);
  CHECK(order == std::vector<Ipv4Cidr>{cidr("10.9.9.9/32"), cidr("10.0.0.0/24"),
                                       cidr("10.0.1.0/24"), cidr("172.16.0.0/12"),
                                       cidr("0.0.0.0/0")});
}

TEST_CASE("lookup agrees with a linear longest-prefix scan over random tables", "[route]") {
  std::mt19937 rng(1812);
  for (int round = 0; round < 20; ++round) {
    RouteTable table;
    std::vector<Route> reference;  // one entry per destination, like the table
    auto add = [&](Route r) {
      r.destination.address = r.destination.network();
      table.add(r);
      std::erase_if(reference, [&](const Route& x) { return x.destination == r.destination; });
      reference.push_back(r);
    };
    // Clustered prefixes so many lengths overlap the same addresses.
    for (int i = 0; i < 200; ++i) {
      const auto len = static_cast<std::uint8_t>(rng() % 33);
      const Ipv4Address a{0x0a000000U | (static_cast<std::uint32_t>(rng()) & 0x00ffffffU)};
      add(Route{Ipv4Cidr{a, len}, std::nullopt, static_cast<NetifId>(i), 0});
    }
    for (int i = 0; i < 40; ++i) {
      const Route victim = reference[rng() % reference.size()];
      CHECK(table.remove(victim.destination));
      std::erase_if(reference, [&](const Route& x) { return x.destination == victim.destination; });
    }
    REQUIRE(table.size() == reference.size());
    for (int i = 0; i < 2000; ++i) {
      const Ipv4Address dst{0x0a000000U | (static_cast<std::uint32_t>(rng()) & 0x00ffffffU)};
      const Route* best = nullptr;
      for (const Route& r : reference) {
        if (r.destination.contains(dst) &&
            (best == nullptr || r.destination.prefix_len > best->destination.prefix_len)) {
          best = &r;
        }
      }
      const auto got = table.lookup(dst);
      REQUIRE(got.has_value() == (best != nullptr));
      if (best) {
        INFO(dst.to_string() << " expected " << best->destination.to_string() << " got "
                             << got->destination.to_string());
        REQUIRE(got->destination == best->destination);
        REQUIRE(got->netif == best->netif);
      }
    }
  }
}
