// The common command line: interfaces, routes, short forms, positionals, one-line errors.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <tapir/app.hpp>

#include "runtime/host_options.hpp"

using namespace tapir;
using namespace tapir::runtime;

namespace {

std::vector<std::string_view> words(const std::vector<std::string>& list) {
  return {list.begin(), list.end()};
}

std::string error_of(const OptionParser& parser, const std::vector<std::string>& args) {
  try {
    parser.parse(words(args));
  } catch (const OptionError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("each --tap or --packet takes the --ip, --mtu and --mac that follow it", "[options]") {
  const std::vector<std::string> args = {
      "--tap",     "tap0",   "--ip", "10.0.0.2/24", "--mtu", "9000",
      "--packet",  "veth1",  "--ip", "10.1.0.2/24", "--mac", "02:00:00:00:00:09",
      "--forward", "--stats"};
  const HostOptions o = OptionParser("t", "test").parse(words(args)).host();
  REQUIRE(o.interfaces.size() == 2);
  CHECK(o.interfaces[0].kind == InterfaceOptions::Kind::tap);
  CHECK(o.interfaces[0].device == "tap0");
  CHECK(o.interfaces[0].address == Ipv4Cidr::parse("10.0.0.2/24"));
  CHECK(o.interfaces[0].mtu == 9000U);
  CHECK_FALSE(o.interfaces[0].mac.has_value());
  CHECK(o.interfaces[1].kind == InterfaceOptions::Kind::packet);
  CHECK(o.interfaces[1].mac == MacAddress::parse("02:00:00:00:00:09"));
  CHECK(o.forward);
  CHECK(o.stats);
}

TEST_CASE("the gateway of --gw and --route must be on an interface's network", "[options]") {
  OptionParser parser("t", "test");
  const HostOptions o = parser
                            .parse(words({"--tap", "tap0", "--ip", "10.0.0.2/24", "--gw",
                                          "10.0.0.1", "--route", "192.168.5.0/24,10.0.0.254"}))
                            .host();
  CHECK(o.gateway == Ipv4Address::parse("10.0.0.1"));
  REQUIRE(o.routes.size() == 1);
  CHECK(o.routes[0].destination == *Ipv4Cidr::parse("192.168.5.0/24"));
  CHECK(o.routes[0].gateway == *Ipv4Address::parse("10.0.0.254"));
  CHECK(error_of(parser, {"--tap", "tap0", "--ip", "10.0.0.2/24", "--gw", "10.9.0.1"})
            .rfind("--gw: ", 0) == 0);
}

TEST_CASE("a bad flag or value is one line naming the flag and what was expected", "[options]") {
  OptionParser parser("t", "test");
  CHECK(error_of(parser, {"--tap", "tap0", "--ip", "foo"}) ==
        "--ip: expected ADDR/PREFIX like 10.0.0.2/24, got \"foo\"");
  CHECK(error_of(parser, {"--ip", "10.0.0.2/24"}).rfind("--ip: ", 0) == 0);
  CHECK(error_of(parser, {"--tap", "tap0", "--ip", "10.0.0.2/24", "--bogus"}) ==
        "unknown flag \"--bogus\" (try --help)");
  for (const auto& e :
       {error_of(parser, {"--tap", "tap0", "--ip", "10.0.0.2/24", "--mtu", "67"}),
        error_of(parser, {"--tap", "tap0", "--ip", "10.0.0.2/24", "--trace", "ipx"}),
        error_of(parser, {"--tap", "tap0", "--ip", "010.0.0.2/24"})}) {
    CHECK_FALSE(e.empty());
    CHECK(e.find('\n') == std::string::npos);
  }
}

TEST_CASE("short forms read as getopt does: -c 3, -c3, and longer short forms like -xx",
          "[options]") {
  std::vector<std::string> counts;
  int hex = 0;
  int quiet = 0;
  OptionParser parser("t", "test");
  parser.add_option("-c, --count", "N", "how many",
                    [&counts](std::string_view v) -> std::optional<std::string> {
                      counts.emplace_back(v);
                      return std::nullopt;
                    });
  parser.add_flag("-x, --hex", "hex", [&hex] { hex = std::max(hex, 1); });
  parser.add_flag("-xx, --hex-all", "all", [&hex] { hex = 2; });
  parser.add_flag("-q, --quiet", "quiet", [&quiet] { ++quiet; });
  parser.parse(
      words({"--tap", "t", "--ip", "10.0.0.2/24", "-c", "3", "-c7", "--count=9", "-x", "-q"}));
  CHECK(counts == std::vector<std::string>{"3", "7", "9"});
  CHECK(hex == 1);
  CHECK(quiet == 1);
  parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24", "-xx"}));
  CHECK(hex == 2);
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "-z"}) ==
        "unexpected argument \"-z\" (try --help)");
}

TEST_CASE("a positional may stand anywhere, and a missing one names what was expected",
          "[options]") {
  std::string dest;
  OptionParser parser("t", "test");
  parser.add_positional("DEST", "the IPv4 address to ping",
                        [&dest](std::string_view v) -> std::optional<std::string> {
                          if (!Ipv4Address::parse(v))
                            return OptionParser::expected("an IPv4 address", v);
                          dest = std::string(v);
                          return std::nullopt;
                        });
  parser.parse(words({"10.0.0.1", "--tap", "t", "--ip", "10.0.0.2/24"}));
  CHECK(dest == "10.0.0.1");
  parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24", "10.0.0.9"}));
  CHECK(dest == "10.0.0.9");
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24"}) ==
        "expected DEST, the IPv4 address to ping (try --help)");
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "10.0.0.1", "10.0.0.3"}) ==
        "unexpected argument \"10.0.0.3\" (try --help)");
}

TEST_CASE("the flag --igmp-version forces IGMP version 1, 2 or 3 and refuses anything else",
          "[options]") {
  OptionParser parser("t", "test");
  CHECK(parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24"})).host().igmp_version == 0);
  CHECK(parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24", "--igmp-version", "2"}))
            .host()
            .igmp_version == 2);
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "--igmp-version", "4"}) ==
        "--igmp-version: expected 1, 2 or 3, got \"4\"");
}

TEST_CASE("the flag --congestion picks the TCP algorithm by its Linux name and refuses others",
          "[options]") {
  OptionParser parser("t", "test");
  CHECK(parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24"})).host().congestion.empty());
  CHECK(parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24", "--congestion", "reno"}))
            .host()
            .congestion == "reno");
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "--congestion", "bbr"}) ==
        "--congestion: expected one of reno, newreno, cubic, got \"bbr\"");
}

TEST_CASE("the flag --syn-cookies takes on or off and refuses anything else", "[options]") {
  OptionParser parser("t", "test");
  CHECK_FALSE(parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24"})).host().syn_cookies);
  CHECK(parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24", "--syn-cookies", "off"}))
            .host()
            .syn_cookies == false);
  CHECK(parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24", "--syn-cookies", "on"}))
            .host()
            .syn_cookies == true);
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "--syn-cookies", "1"}) ==
        "--syn-cookies: expected on or off, got \"1\"");
}

TEST_CASE("the flag --limit sets the stack's caps by key and refuses unknown keys and values",
          "[options]") {
  OptionParser parser("t", "test");
  const auto none = parser.parse(words({"--tap", "t", "--ip", "10.0.0.2/24"})).host().limits;
  CHECK_FALSE(none.arp_entries);
  CHECK_FALSE(none.connections);
  const auto set = parser
                       .parse(words({"--tap", "t", "--ip", "10.0.0.2/24", "--limit",
                                     "arp-entries=64,reasm-bytes=65536,reasm-bytes-per-source=4096",
                                     "--limit", "syn-backlog=8,syn-per-source=2,connections=100"}))
                       .host()
                       .limits;
  CHECK(set.arp_entries == 64U);
  CHECK(set.reasm_bytes == 65536U);
  CHECK(set.reasm_bytes_per_source == 4096U);
  CHECK(set.syn_backlog == 8U);
  CHECK(set.syn_per_source == 2U);
  CHECK(set.connections == 100U);
  CHECK_FALSE(set.arp_queue_bytes);
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "--limit", "sockets=5"}) ==
        "--limit: expected KEY=N with KEY one of arp-entries, arp-queue-bytes, reasm-bytes, "
        "reasm-bytes-per-source, syn-backlog, syn-per-source, connections, echo-rate, got "
        "\"sockets=5\"");
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "--limit", "arp-entries=0"}) ==
        "--limit: expected arp-entries=N with N from 1 to 16777216, got \"arp-entries=0\"");
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "--limit", "connections=-1"}) ==
        "--limit: expected connections=N with N from 1 to 67108864, got \"connections=-1\"");
  CHECK(error_of(parser, {"--tap", "t", "--ip", "10.0.0.2/24", "--limit", "syn-backlog"}) ==
        "--limit: expected KEY=N with KEY one of arp-entries, arp-queue-bytes, reasm-bytes, "
        "reasm-bytes-per-source, syn-backlog, syn-per-source, connections, echo-rate, got "
        "\"syn-backlog\"");
}
