// The flags every tapir app understands (--tap, --ip, --gw, ...): one table of name, value name,
// help and what each does, which OptionParser reads both to parse and to print --help.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "drivers/fault_model.hpp"
#include "runtime/host_options.hpp"
#include "stack/core/address.hpp"

namespace tapir::runtime {

// What the common flags have said so far, as OptionParser reads them in order.
struct CommonFlagState {
  HostOptions options;
  std::optional<std::uint32_t> all_mtu;  // --mtu / --mac before any interface
  std::optional<MacAddress> all_mac;
};

struct CommonFlag {
  std::string_view name;        // "--tap"
  std::string_view value_name;  // "NAME"; empty: the flag takes no value
  std::string_view help;
  // Applies the flag `flag` (this one's name) with its value; throws OptionError on a bad one.
  void (*apply)(CommonFlagState& state, std::string_view flag, std::string_view value);
};

// In the order --help lists them.
std::span<const CommonFlag> common_flags();
const CommonFlag* find_common_flag(std::string_view name);

// Once every word is read: gives --mtu and --mac from before any interface to the interfaces
// without their own, and checks what needs the whole line (an interface at all, one address per
// host, each gateway on a connected network). Throws OptionError.
HostOptions finish_common_flags(CommonFlagState state);

// Reads --fault's SPEC, comma-separated KEY=VALUE: loss, duplicate and reorder take a
// probability ("5%" or "0.05"), delay, jitter and reorder-delay a duration ("20ms", "500us",
// "1s", or "0"), seed a whole number; keys left out keep LinkConfig's defaults (seed 1).
// Throws OptionError with one line starting "--fault: ".
LinkConfig parse_fault_spec(std::string_view spec);

// `"text"`: how an error line quotes what was given.
std::string quoted(std::string_view text);
// Throws OptionError("FLAG: MESSAGE").
[[noreturn]] void fail(std::string_view flag, std::string_view message);

}  // namespace tapir::runtime
