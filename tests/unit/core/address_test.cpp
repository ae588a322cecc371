// Tests of Ipv4Address, MacAddress and Ipv4Cidr: parsing, printing, classification.
#include <catch2/catch.hpp>

#include <string>

#include "stack/core/address.hpp"

using namespace tapir;

TEST_CASE("a dotted quad parses to its address", "[address]") {
  CHECK(Ipv4Address::parse("10.0.0.2") == Ipv4Address(10, 0, 0, 2));
  CHECK(Ipv4Address::parse("10.0.0.2")->value() == 0x0a000002U);
  CHECK(Ipv4Address::parse("0.0.0.0") == Ipv4Address::any());
  CHECK(Ipv4Address::parse("255.255.255.255") == Ipv4Address::broadcast());
  CHECK(Ipv4Address::parse("192.168.100.254") == Ipv4Address(192, 168, 100, 254));
}

TEST_CASE("anything but a dotted quad of bytes is refused as an IPv4 address", "[address]") {
  for (const char* bad :
       {"256.1.1.1", "1.256.1.1", "1.2.3.256", "1.2.3", "1.2.3.4.5", "", ".", "1..2.3", "1.2.3.",
        ".1.2.3", "a.b.c.d", "1.2.3.x", " 1.2.3.4", "1.2.3.4 ", "-1.2.3.4", "+1.2.3.4",
        "1.2.3.4/24", "1.2.3.0004", "0x1.2.3.4", "1000.1.1.1",
        // Leading zeros: octal to inet_aton(3), refused by inet_pton(3).
        "010.0.0.1", "10.0.0.01", "00.0.0.0"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(Ipv4Address::parse(bad).has_value());
  }
}

TEST_CASE("an IPv4 address prints as a dotted quad", "[address]") {
  CHECK(Ipv4Address(10, 0, 0, 2).to_string() == "10.0.0.2");
  CHECK(Ipv4Address::any().to_string() == "0.0.0.0");
  CHECK(Ipv4Address::broadcast().to_string() == "255.255.255.255");
  for (const char* text : {"1.2.3.4", "127.0.0.1", "224.0.0.251", "172.16.254.1"}) {
    CHECK(Ipv4Address::parse(text)->to_string() == text);
  }
}

TEST_CASE("IPv4 addresses are classified by their prefix", "[address]") {
  CHECK(Ipv4Address(224, 0, 0, 1).is_multicast());
  CHECK(Ipv4Address(239, 255, 255, 255).is_multicast());
  CHECK_FALSE(Ipv4Address(240, 0, 0, 1).is_multicast());
  CHECK(Ipv4Address(127, 1, 2, 3).is_loopback());
  CHECK(Ipv4Address(240, 0, 0, 1).is_class_e());
  CHECK_FALSE(Ipv4Address::broadcast().is_class_e());
  CHECK(Ipv4Address::broadcast().is_broadcast());
  CHECK(Ipv4Address::any().is_unspecified());
  CHECK(Ipv4Address(10, 0, 0, 1) < Ipv4Address(10, 0, 0, 2));
}

TEST_CASE("a MAC address parses with colons or dashes", "[address]") {
  const MacAddress expected{MacAddress::Bytes{0x02, 0x00, 0x5e, 0x10, 0xab, 0xff}};
  CHECK(MacAddress::parse("02:00:5e:10:ab:ff") == expected);
  CHECK(MacAddress::parse("02-00-5e-10-ab-ff") == expected);
  CHECK(MacAddress::parse("02:00:5E:10:AB:FF") == expected);
  CHECK(MacAddress::parse("ff:ff:ff:ff:ff:ff") == MacAddress::broadcast());
}

TEST_CASE("anything but six hex bytes is refused as a MAC address", "[address]") {
  for (const char* bad :
       {"01:02:03:04:05", "01:02:03:04:05:06:07", "01:02:03:04:05:0g", "001:02:03:04:05:06",
        "01:02:03:04:05:", ":01:02:03:04:05", "", "01020304050607", "01:02:03:04:05:06 ",
        "01.02.03.04.05.06", "01::02:03:04:05"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(MacAddress::parse(bad).has_value());
  }
}

TEST_CASE("a MAC address prints as lower-case colon-separated hex", "[address]") {
  CHECK(MacAddress{MacAddress::Bytes{0x02, 0x00, 0x5e, 0x10, 0xab, 0xff}}.to_string() ==
        "02:00:5e:10:ab:ff");
  CHECK(MacAddress{}.to_string() == "00:00:00:00:00:00");
  const std::uint8_t raw[6] = {1, 2, 3, 4, 5, 6};
  const MacAddress mac = MacAddress::from(raw);
  CHECK(mac.to_string() == "01:02:03:04:05:06");
  std::uint8_t out[6] = {};
  mac.copy_to(out);
  CHECK(std::equal(out, out + 6, raw));
}

TEST_CASE("MAC addresses are classified by their group bit", "[address]") {
  CHECK(MacAddress::broadcast().is_broadcast());
  CHECK(MacAddress::broadcast().is_multicast());
  CHECK(MacAddress::parse("01:00:5e:00:00:01")->is_multicast());
  CHECK_FALSE(MacAddress::parse("02:00:00:00:00:01")->is_multicast());
  CHECK(MacAddress{}.is_zero());
}

TEST_CASE("an IPv4 group maps to 01:00:5e and its low 23 bits (RFC 1112 §6.4)", "[address]") {
  CHECK(MacAddress::multicast_for(Ipv4Address(224, 1, 2, 3)).to_string() == "01:00:5e:01:02:03");
  // The 24th bit is dropped: 32 groups share each MAC.
  CHECK(MacAddress::multicast_for(Ipv4Address(239, 129, 2, 3)).to_string() == "01:00:5e:01:02:03");
  CHECK(MacAddress::multicast_for(Ipv4Address(224, 0, 0, 251)).to_string() == "01:00:5e:00:00:fb");
  CHECK(MacAddress::multicast_for(Ipv4Address(239, 255, 255, 255)).to_string() ==
        "01:00:5e:7f:ff:ff");
}

TEST_CASE("an address with a prefix parses, and the prefix must be 0 to 32", "[address]") {
  const auto cidr = Ipv4Cidr::parse("10.0.0.2/24");
  REQUIRE(cidr.has_value());
  CHECK(cidr->address == Ipv4Address(10, 0, 0, 2));
  CHECK(cidr->prefix_len == 24);
  CHECK(Ipv4Cidr::parse("0.0.0.0/0")->prefix_len == 0);
  CHECK(Ipv4Cidr::parse("1.2.3.4/32")->prefix_len == 32);
  for (const char* bad :
       {"1.2.3.4/33", "1.2.3.4", "1.2.3.4/", "/8", "1.2.3.4/-1", "1.2.3.4/ 8", "1.2.3.4/8 ",
        "1.2.3/8", "256.0.0.0/8", "1.2.3.4/100", "1.2.3.4/8/8", "1.2.3.4/x"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(Ipv4Cidr::parse(bad).has_value());
  }
}

TEST_CASE("a prefix gives its mask, network, broadcast and membership", "[address]") {
  const Ipv4Cidr net = *Ipv4Cidr::parse("10.1.2.3/20");
  CHECK(net.mask() == 0xfffff000U);
  CHECK(net.network() == Ipv4Address(10, 1, 0, 0));
  CHECK(net.directed_broadcast() == Ipv4Address(10, 1, 15, 255));
  CHECK(net.contains(Ipv4Address(10, 1, 15, 254)));
  CHECK_FALSE(net.contains(Ipv4Address(10, 1, 16, 0)));
  CHECK(Ipv4Cidr::mask_of(0) == 0);
  CHECK(Ipv4Cidr::mask_of(1) == 0x80000000U);
  CHECK(Ipv4Cidr::mask_of(32) == 0xffffffffU);
  CHECK(Ipv4Cidr{Ipv4Address{}, 0}.contains(Ipv4Address(8, 8, 8, 8)));
  CHECK(net.to_string() == "10.1.2.3/20");
}
