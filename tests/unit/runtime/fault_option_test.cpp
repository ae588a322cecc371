// --fault SPEC: the link impairments every interface gets, read strictly, one-line errors.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <tapir/app.hpp>

#include "runtime/common_flags.hpp"
#include "runtime/host_options.hpp"

using namespace tapir;
using namespace tapir::runtime;

namespace {

const std::vector<std::string> kInterface = {"--tap", "tap0", "--ip", "10.0.0.2/24"};

HostOptions parse_with(const std::vector<std::string>& more) {
  std::vector<std::string> args = kInterface;
  args.insert(args.end(), more.begin(), more.end());
  const std::vector<std::string_view> words(args.begin(), args.end());
  return OptionParser("t", "test").parse(words).host();
}

std::string error_of(const std::vector<std::string>& more) {
  try {
    parse_with(more);
  } catch (const OptionError& e) {
    return e.what();
  }
  return "";
}

std::string spec_error(const std::string& spec) {
  return error_of({"--fault", spec});
}

}  // namespace

TEST_CASE("without --fault the links are left alone", "[options][fault]") {
  CHECK_FALSE(parse_with({}).fault.has_value());
}

TEST_CASE("The --fault flag reads every key of the spec", "[options][fault]") {
  const HostOptions o = parse_with(
      {"--fault",
       "loss=5%,duplicate=1%,reorder=10%,delay=15ms,jitter=10ms,reorder-delay=2ms,seed=42"});
  REQUIRE(o.fault.has_value());
  CHECK(o.fault->loss == Approx(0.05));
  CHECK(o.fault->duplicate == Approx(0.01));
  CHECK(o.fault->reorder == Approx(0.10));
  CHECK(o.fault->delay == Duration{15000});
  CHECK(o.fault->jitter == Duration{10000});
  CHECK(o.fault->reorder_delay == Duration{2000});
  CHECK(o.fault->seed == 42U);
}

TEST_CASE("The --fault flag is taken as --fault=SPEC as well as --fault SPEC", "[options][fault]") {
  const HostOptions o = parse_with({"--fault=loss=0.5"});
  REQUIRE(o.fault.has_value());
  CHECK(o.fault->loss == Approx(0.5));
}

TEST_CASE("a --fault probability is a percentage or a fraction from 0 to 1", "[options][fault]") {
  CHECK(parse_fault_spec("loss=5%").loss == Approx(0.05));
  CHECK(parse_fault_spec("loss=0.05").loss == Approx(0.05));
  CHECK(parse_fault_spec("loss=2.5%").loss == Approx(0.025));
  CHECK(parse_fault_spec("loss=100%").loss == Approx(1.0));
  CHECK(parse_fault_spec("loss=1").loss == Approx(1.0));
  CHECK(parse_fault_spec("loss=0").loss == 0.0);
  CHECK(parse_fault_spec("duplicate=0%").duplicate == 0.0);
}

TEST_CASE("a --fault duration is in us, ms or s, and 0 needs no unit", "[options][fault]") {
  CHECK(parse_fault_spec("delay=500us").delay == Duration{500});
  CHECK(parse_fault_spec("delay=20ms").delay == Duration{20000});
  CHECK(parse_fault_spec("delay=1.5ms").delay == Duration{1500});
  CHECK(parse_fault_spec("delay=2s").delay == Duration{2000000});
  CHECK(parse_fault_spec("delay=60s").delay == Duration{60000000});
  CHECK(parse_fault_spec("jitter=0").jitter == Duration{0});
  CHECK(parse_fault_spec("reorder-delay=0ms").reorder_delay == Duration{0});
}

TEST_CASE("keys left out of --fault keep the link's defaults", "[options][fault]") {
  const LinkConfig link = parse_fault_spec("loss=1%");
  const LinkConfig defaults;
  CHECK(link.duplicate == 0.0);
  CHECK(link.reorder == 0.0);
  CHECK(link.delay == Duration{0});
  CHECK(link.jitter == Duration{0});
  CHECK(link.reorder_delay == defaults.reorder_delay);
  CHECK(link.seed == defaults.seed);
  CHECK(parse_fault_spec("seed=7").transparent());
}

TEST_CASE("a --fault item that is not KEY=VALUE with a known KEY names the keys",
          "[options][fault]") {
  const std::string keys =
      "--fault: expected KEY=VALUE with KEY one of loss, duplicate, reorder, delay, jitter, "
      "reorder-delay, seed, got ";
  CHECK(spec_error("drop=5%") == keys + "\"drop=5%\"");
  CHECK(spec_error("loss") == keys + "\"loss\"");
  CHECK(spec_error("") == keys + "\"\"");
  CHECK(spec_error("loss=5%,") == keys + "\"\"");
  CHECK(spec_error("loss=5%,,delay=1ms") == keys + "\"\"");
  CHECK(spec_error("Loss=5%") == keys + "\"Loss=5%\"");
  CHECK(spec_error(" loss=5%") == keys + "\" loss=5%\"");
}

TEST_CASE("a bad --fault probability is one line with what was expected", "[options][fault]") {
  const std::string p = " as a probability from 0% to 100% like 5% or 0.05, got ";
  CHECK(spec_error("loss=5") == "--fault: expected loss" + p + "\"5\"");
  CHECK(spec_error("loss=150%") == "--fault: expected loss" + p + "\"150%\"");
  CHECK(spec_error("duplicate=-1%") == "--fault: expected duplicate" + p + "\"-1%\"");
  CHECK(spec_error("reorder=") == "--fault: expected reorder" + p + "\"\"");
  CHECK(spec_error("loss=%") == "--fault: expected loss" + p + "\"%\"");
  CHECK(spec_error("loss=nan") == "--fault: expected loss" + p + "\"nan\"");
  CHECK(spec_error("loss=1e-2") == "--fault: expected loss" + p + "\"1e-2\"");
  CHECK(spec_error("loss=.5") == "--fault: expected loss" + p + "\".5\"");
  CHECK(spec_error("loss=5%%") == "--fault: expected loss" + p + "\"5%%\"");
}

TEST_CASE("a bad --fault duration or seed is one line with what was expected", "[options][fault]") {
  const std::string d = " as a duration like 20ms (us, ms or s; at most 60s), got ";
  CHECK(spec_error("delay=20") == "--fault: expected delay" + d + "\"20\"");
  CHECK(spec_error("jitter=5 ms") == "--fault: expected jitter" + d + "\"5 ms\"");
  CHECK(spec_error("delay=61s") == "--fault: expected delay" + d + "\"61s\"");
  CHECK(spec_error("delay=-1ms") == "--fault: expected delay" + d + "\"-1ms\"");
  CHECK(spec_error("reorder-delay=1m") == "--fault: expected reorder-delay" + d + "\"1m\"");
  CHECK(spec_error("delay=ms") == "--fault: expected delay" + d + "\"ms\"");
  const std::string s = " as a whole number like 1, got ";
  CHECK(spec_error("seed=x") == "--fault: expected seed" + s + "\"x\"");
  CHECK(spec_error("seed=-1") == "--fault: expected seed" + s + "\"-1\"");
  CHECK(spec_error("seed=1.5") == "--fault: expected seed" + s + "\"1.5\"");
}

TEST_CASE("a --fault key or the flag itself given twice is an error", "[options][fault]") {
  CHECK(spec_error("loss=1%,loss=2%") == "--fault: loss is given twice; expected each key once");
  CHECK(error_of({"--fault", "loss=1%", "--fault", "delay=1ms"}) ==
        "--fault: given twice; expected one SPEC for every interface");
  CHECK(error_of({"--fault"}) == "--fault: expected SPEC after it, got nothing");
}
