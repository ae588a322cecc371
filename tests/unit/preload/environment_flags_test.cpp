// The common flags of a preloaded process from TAPIR_* variables: the table's order, on/off
// values, several routes, TAPIR_ARGS split at newlines or at spaces.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <tapir/app.hpp>

#include "preload/environment_flags.hpp"
#include "runtime/host_options.hpp"

using namespace tapir;
using namespace tapir::preload;

namespace {

// Sets the given variables (and clears every other flag variable) for the length of a test.
using Vars = std::vector<std::pair<std::string, std::string>>;

class Environment {
 public:
  explicit Environment(const Vars& set) {
    for (const std::string& v : flag_variables()) ::unsetenv(v.c_str());
    for (const auto& [name, value] : set) ::setenv(name.c_str(), value.c_str(), 1);
  }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  ~Environment() {
    for (const std::string& v : flag_variables()) ::unsetenv(v.c_str());
  }
};

using Words = std::vector<std::string>;

}  // namespace

TEST_CASE("environment: each flag's variable is TAPIR_ and its name in capitals", "[preload]") {
  CHECK(variable_for("--tap") == "TAPIR_TAP");
  CHECK(variable_for("--igmp-version") == "TAPIR_IGMP_VERSION");
  const auto names = flag_variables();
  CHECK(std::find(names.begin(), names.end(), "TAPIR_GW") != names.end());
  CHECK(std::find(names.begin(), names.end(), "TAPIR_ARGS") != names.end());
  CHECK(std::find(names.begin(), names.end(), "TAPIR_HELP") == names.end());
}

TEST_CASE("environment: variables become flags in the table's order, so --ip follows --tap",
          "[preload]") {
  Environment env(
      Vars{{"TAPIR_GW", "10.0.0.1"}, {"TAPIR_IP", "10.0.0.3/24"}, {"TAPIR_TAP", "tap1"}});
  CHECK(flag_words_from_environment() ==
        Words{"--tap", "tap1", "--ip", "10.0.0.3/24", "--gw", "10.0.0.1"});
}

TEST_CASE(
    "environment: a flag without a value is on for 1, off for 0 or empty, and anything "
    "else is one error line",
    "[preload]") {
  {
    Environment env(Vars{{"TAPIR_STATS", "1"}, {"TAPIR_FORWARD", "0"}});
    CHECK(flag_words_from_environment() == Words{"--stats"});
  }
  {
    Environment env(Vars{{"TAPIR_STATS", ""}});
    CHECK(flag_words_from_environment().empty());
  }
  Environment env(Vars{{"TAPIR_STATS", "yes"}});
  CHECK_THROWS_WITH(flag_words_from_environment(), "TAPIR_STATS: expected 1 or 0, got \"yes\"");
}

TEST_CASE("environment: TAPIR_ROUTE holds several routes, an empty value counts as unset",
          "[preload]") {
  Environment env(
      {{"TAPIR_ROUTE", "192.168.1.0/24,10.0.0.1 172.16.0.0/12,10.0.0.1"}, {"TAPIR_GW", ""}});
  CHECK(flag_words_from_environment() ==
        Words{"--route", "192.168.1.0/24,10.0.0.1", "--route", "172.16.0.0/12,10.0.0.1"});
}

TEST_CASE(
    "environment: TAPIR_ARGS comes last, split at newlines if it has any (a value may "
    "hold spaces), else at spaces",
    "[preload]") {
  {
    Environment env(Vars{{"TAPIR_TAP", "tap1"}, {"TAPIR_ARGS", "--ip 10.0.0.3/24  --stats"}});
    CHECK(flag_words_from_environment() ==
          Words{"--tap", "tap1", "--ip", "10.0.0.3/24", "--stats"});
  }
  Environment env(Vars{{"TAPIR_ARGS", "--tap\ntap1\n--pcap\n/tmp/a file.pcap\n"}});
  CHECK(flag_words_from_environment() == Words{"--tap", "tap1", "--pcap", "/tmp/a file.pcap"});
}

TEST_CASE("environment: the words parse as a tapir program's command line would", "[preload]") {
  Environment env(Vars{{"TAPIR_TAP", "tap1"}, {"TAPIR_IP", "10.0.0.3/24"}, {"TAPIR_MTU", "9000"}});
  const Words words = flag_words_from_environment();
  const std::vector<std::string_view> args(words.begin(), words.end());
  const runtime::HostOptions o = OptionParser("tapir", "").parse(args).host();
  REQUIRE(o.interfaces.size() == 1);
  CHECK(o.interfaces[0].device == "tap1");
  CHECK(o.interfaces[0].address->to_string() == "10.0.0.3/24");
  CHECK(o.interfaces[0].mtu == 9000U);
}
