// Options: the command line every tapir app shares (--tap/--packet/--ip/...), plus app flags.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/fault_model.hpp"
#include "stack/core/address.hpp"
#include "stack/core/time.hpp"

namespace tapir {

// One --tap or --packet with the flags that followed it.
struct InterfaceOptions {
  enum class Kind : std::uint8_t { tap, packet };
  Kind kind = Kind::tap;
  std::string device;
  std::optional<Ipv4Cidr> address;   // --ip; none: the interface only forwards
  std::optional<std::uint32_t> mtu;  // --mtu; none: 1500 for a TAP, the device's for --packet
  std::optional<MacAddress> mac;     // --mac; none: see Host (derived, or the device's own)
};

struct RouteOptions {
  Ipv4Cidr destination;  // network (host bits zero)
  Ipv4Address gateway;
};

struct Options {
  std::vector<InterfaceOptions> interfaces;
  std::optional<Ipv4Address> gateway;  // --gw
  std::vector<RouteOptions> routes;    // --route, in command-line order
  bool forward = false;                // --forward
  int igmp_version = 0;                // --igmp-version; 0: IGMPv3, falling back (RFC 3376 §7)
  std::optional<Duration> msl;         // --msl SECONDS: TCP's MSL (TIME-WAIT is 2 MSL)
  std::optional<std::string> pcap;     // --pcap FILE
  std::optional<LinkConfig> fault;     // --fault SPEC, both ways; Host derives per-link seeds
  std::uint32_t trace_layers = 0;      // --trace, a Trace::bit mask
  bool stats = false;                  // --stats
  bool help = false;                   // --help was given (parse_or_exit handles it)
};

// A bad command line: what() is one line naming the flag and what was expected,
// e.g. `--ip: expected ADDR/PREFIX like 10.0.0.2/24, got "foo"`.
class OptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads --fault's SPEC, comma-separated KEY=VALUE: loss, duplicate and reorder take a
// probability ("5%" or "0.05"), delay, jitter and reorder-delay a duration ("20ms", "500us",
// "1s", or "0"), seed a whole number; keys left out keep LinkConfig's defaults (seed 1).
// Throws OptionError with one line starting "--fault: ".
LinkConfig parse_fault_spec(std::string_view spec);

class OptionParser {
 public:
  // Checks an app flag's value: nullopt if it is fine, else the text after "--flag: ", by
  // convention built with expected() (`expected a port 1..65535, got "x"`).
  using ValueCheck = std::function<std::optional<std::string>(std::string_view value)>;

  // `program` prefixes error lines ("tapird: ..."); `summary` opens --help.
  OptionParser(std::string program, std::string summary);

  // App flags. `names` is the long name with its dashes ("--echo-port"), or a short form and
  // the long one as a manual page writes them ("-c, --count"); --help shows the short form as
  // "(-c)" before `help`. A flag may be given more than once; the callback runs each time, in
  // command-line order. As getopt reads them, `-c 3` and `-c3` both give --count the value 3;
  // a short form may be longer than a letter (tcpdump's "-xx").
  void add_flag(std::string names, std::string help, std::function<void()> on_seen);
  void add_option(std::string names, std::string value_name, std::string help, ValueCheck on_value);
  // A word outside the flags, such as ping's DEST, anywhere on the line; positionals are
  // filled in the order they were added, each checked as it comes. A missing one is the error
  // `expected NAME, WHAT (try --help)`, e.g. `expected DEST, the IPv4 address to ping`.
  void add_positional(std::string name, std::string what, ValueCheck on_value);

  // Parses arguments (without the program name). Throws OptionError on the first problem.
  // `--flag=value` is accepted as well as `--flag value`.
  Options parse(const std::vector<std::string_view>& args) const;
  // For main(): --help prints usage() to stdout and exits 0; an error prints
  // "program: <error>" to stderr and exits 2.
  Options parse_or_exit(int argc, char** argv) const;

  std::string usage() const;

  // `expected WHAT, got "VALUE"`: the house style of a value error.
  static std::string expected(std::string_view what, std::string_view value);

 private:
  struct Extra {
    std::string name;        // "--count"
    std::string short_name;  // "-c", or empty
    std::string value_name;  // empty: a flag without a value
    std::string help;
    std::function<void()> on_seen;
    ValueCheck on_value;
  };
  struct Positional {
    std::string name;
    std::string what;
    ValueCheck on_value;
  };
  // A word on the command line read as a flag: its long name and any value written into it.
  struct FlagWord {
    std::string_view flag;
    std::optional<std::string_view> inline_value;
  };

  void add_extra(std::string names, Extra extra);
  const Extra* find_extra(std::string_view name) const;
  FlagWord read_flag_word(std::string_view arg) const;

  std::string program_;
  std::string summary_;
  std::vector<Extra> extras_;
  std::vector<Positional> positionals_;
};

}  // namespace tapir
