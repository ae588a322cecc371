// The checks apps give their own flags, and --help drawn from the table the parser reads.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <sstream>
#include <string>
#include <vector>

#include <tapir/app.hpp>

using namespace tapir;

namespace {

std::string error_of(const OptionParser& parser, const std::vector<std::string>& args) {
  try {
    parser.parse(std::vector<std::string_view>(args.begin(), args.end()));
  } catch (const OptionError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("ADDR:PORT is a dotted quad and a port 1..65535 after the colon", "[options]") {
  std::optional<sockaddr_in> peer;
  const auto check =
      address_port_check("an address and port", [&](const sockaddr_in& p) { peer = p; });
  CHECK_FALSE(check("10.0.0.1:7").has_value());
  REQUIRE(peer.has_value());
  CHECK(peer->sin_family == AF_INET);
  CHECK(peer->sin_addr.s_addr == htonl(0x0a000001));
  CHECK(peer->sin_port == htons(7));
  for (const char* bad :
       {"10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:7x", ":7", "x:7", "10.0.0:7", ""}) {
    CHECK(check(bad) == "expected an address and port, got \"" + std::string(bad) + "\"");
  }
}

TEST_CASE("a group is an address of 224.0.0.0/4, multicast's class D", "[options]") {
  std::optional<in_addr> group;
  const auto check = group_check([&](in_addr g) { group = g; });
  CHECK_FALSE(check("239.1.2.3").has_value());
  REQUIRE(group.has_value());
  CHECK(group->s_addr == htonl(0xef010203));
  CHECK_FALSE(check("224.0.0.1").has_value());
  for (const char* bad : {"223.255.255.255", "240.0.0.1", "10.0.0.1", "239.1.2", "x"}) {
    CHECK(check(bad) ==
          "expected a multicast address like 239.1.2.3, got \"" + std::string(bad) + "\"");
  }
}

TEST_CASE("--help lists every common flag, and each one it lists is a flag the parser knows",
          "[options]") {
  OptionParser parser("t", "test");
  std::istringstream usage(parser.usage());
  std::vector<std::string> listed;
  for (std::string line; std::getline(usage, line);) {
    if (line.rfind("  --", 0) == 0) listed.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  CHECK(listed == std::vector<std::string>{
                      "--tap",        "--packet",      "--ip",      "--mac",          "--mtu",
                      "--gw",         "--route",       "--forward", "--igmp-version", "--msl",
                      "--congestion", "--syn-cookies", "--offload", "--limit",        "--pcap",
                      "--fault",      "--trace",       "--stats",   "--name",         "--no-ctl",
                      "--help"});
  for (const std::string& flag : listed) {
    INFO(flag);
    CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", flag + "=x"})
              .rfind("unknown flag", 0) == std::string::npos);
  }
}
