// The common flags: each one's value read strictly and applied, one clear line per mistake.
#include "runtime/common_flags.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <vector>

#include <tapir/app.hpp>

#include "stack/tcp/congestion.hpp"

#include "stack/core/trace.hpp"

namespace tapir::runtime {

namespace {

constexpr std::string_view kAddressHint = "ADDR/PREFIX like 10.0.0.2/24";
constexpr std::string_view kRouteHint = "NET/PREFIX,GATEWAY like 192.168.1.0/24,10.0.0.1";
constexpr std::string_view kFaultKeys =
    "KEY=VALUE with KEY one of loss, duplicate, reorder, delay, jitter, reorder-delay, seed";
constexpr std::string_view kTraceLayers = "eth,arp,ip,icmp,igmp,udp,tcp,sock,tcp-cc";

// netdevice(7): 1..15 bytes (IFNAMSIZ - 1); no '/', ':' or whitespace (dev_valid_name()).
bool valid_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\0') return false;
  }
  return true;
}

Ipv4Cidr parse_interface_address(std::string_view flag, std::string_view text) {
  auto cidr = Ipv4Cidr::parse(text);
  if (!cidr) fail(flag, OptionParser::expected(kAddressHint, text));
  const Ipv4Address a = cidr->address;
  // RFC 1122 §3.2.1.3: an interface address is a unicast address of a real network.
  if (a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback() ||
      a.is_class_e() || (a.value() >> 24) == 0) {
    fail(flag, OptionParser::expected("a unicast host address like 10.0.0.2/24", text));
  }
  if (cidr->prefix_len == 0) fail(flag, OptionParser::expected("a prefix length 1..32", text));
  // RFC 1122 §3.2.1.3: host number all zeros or all ones is never a host (RFC 3021: except on
  // /31 point-to-point links, and /32 has no host part).
  if (cidr->prefix_len < 31 && (a == cidr->network() || a == cidr->directed_broadcast())) {
    fail(flag, a.to_string() + " is the " + (a == cidr->network() ? "network" : "broadcast") +
                   " address of " + cidr->network().to_string() + "/" +
                   std::to_string(cidr->prefix_len) + "; expected a host address");
  }
  return *cidr;
}

Ipv4Address parse_gateway(std::string_view flag, std::string_view text, std::string_view hint) {
  auto a = Ipv4Address::parse(text);
  if (!a) fail(flag, OptionParser::expected(hint, text));
  return *a;
}

RouteOptions parse_route(std::string_view flag, std::string_view text) {
  const auto comma = text.find(',');
  if (comma == std::string_view::npos) fail(flag, OptionParser::expected(kRouteHint, text));
  auto net = Ipv4Cidr::parse(text.substr(0, comma));
  auto gw = Ipv4Address::parse(text.substr(comma + 1));
  if (!net || !gw) fail(flag, OptionParser::expected(kRouteHint, text));
  if (net->address != net->network()) {
    fail(flag, net->to_string() + " has host bits set; expected a network like " +
                   net->network().to_string() + "/" + std::to_string(net->prefix_len));
  }
  return RouteOptions{*net, *gw};
}

std::uint32_t parse_mtu(std::string_view flag, std::string_view text) {
  // RFC 791: every internet module must forward a 68-octet datagram unfragmented; 65535 is
  // the largest IPv4 datagram and the largest TAP frame payload.
  auto n = parse_integer(text, 68, 65535);
  if (!n) fail(flag, OptionParser::expected("an MTU from 68 to 65535", text));
  return static_cast<std::uint32_t>(*n);
}

MacAddress parse_mac(std::string_view flag, std::string_view text) {
  auto mac = MacAddress::parse(text);
  // A group or all-zero MAC as a station address would make every neighbour misdeliver.
  if (!mac || mac->is_multicast() || mac->is_zero()) {
    fail(flag, OptionParser::expected("a unicast MAC like 02:00:00:00:00:01", text));
  }
  return *mac;
}

// A plain decimal number ("5", "0.05", "2.5"): no sign, exponent, hex, inf or nan, which
// strtod would take but nobody means in a fault spec.
std::optional<double> parse_decimal(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return std::nullopt;
  if (std::count(text.begin(), text.end(), '.') > 1) return std::nullopt;
  for (char c : text) {
    if (c != '.' && (c < '0' || c > '9')) return std::nullopt;
  }
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v, std::chars_format::fixed);
  if (ec != std::errc{} || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "5%" or "0.05", as netem writes a probability and as a fraction.
std::optional<double> parse_probability(std::string_view text) {
  const bool percent = text.ends_with('%');
  if (percent) text.remove_suffix(1);
  auto v = parse_decimal(text);
  if (!v) return std::nullopt;
  const double p = percent ? *v / 100 : *v;
  if (p > 1) return std::nullopt;
  return p;
}

// "20ms", "500us", "1.5s" or "0", up to a minute (longer would only be a typo).
std::optional<Duration> parse_fault_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  const std::string_view unit = text.substr(digits);
  auto v = parse_decimal(text.substr(0, digits));
  if (!v) return std::nullopt;
  double micros = 0;
  if (unit == "us") {
    micros = *v;
  } else if (unit == "ms") {
    micros = *v * 1e3;
  } else if (unit == "s") {
    micros = *v * 1e6;
  } else if (!(unit.empty() && *v == 0)) {
    return std::nullopt;
  }
  if (micros > 60e6) return std::nullopt;
  return Duration{std::llround(micros)};
}

// --- what each flag does ------------------------------------------------------------------

InterfaceOptions* last_interface(CommonFlagState& s) {
  return s.options.interfaces.empty() ? nullptr : &s.options.interfaces.back();
}

// --tap NAME, --packet IFNAME: a new interface, which the --ip, --mtu and --mac after it are for.
void add_interface(CommonFlagState& s, std::string_view flag, std::string_view value) {
  if (!valid_interface_name(value)) {
    fail(flag, OptionParser::expected("an interface name of 1 to 15 characters without '/' or ':'",
                                      value));
  }
  for (const auto& itf : s.options.interfaces) {
    if (itf.device == value) fail(flag, std::string(value) + " is given twice");
  }
  InterfaceOptions itf;
  itf.kind = flag == "--tap" ? InterfaceOptions::Kind::tap : InterfaceOptions::Kind::packet;
  itf.device = std::string(value);
  s.options.interfaces.push_back(std::move(itf));
}

void set_address(CommonFlagState& s, std::string_view flag, std::string_view value) {
  InterfaceOptions* last = last_interface(s);
  if (!last) fail(flag, "comes after the --tap NAME or --packet IFNAME it belongs to");
  if (last->address) {
    fail(flag, last->device + " already has " + last->address->to_string() +
                   "; expected one --ip per interface");
  }
  last->address = parse_interface_address(flag, value);
}

// --mtu and --mac are for the interface named before them, or before any, for all of them.
[[noreturn]] void fail_given_twice(std::string_view flag, const InterfaceOptions* last) {
  fail(flag, "given twice for " + (last ? last->device : std::string("all interfaces")));
}

void set_mtu(CommonFlagState& s, std::string_view flag, std::string_view value) {
  InterfaceOptions* last = last_interface(s);
  std::optional<std::uint32_t>& mtu = last ? last->mtu : s.all_mtu;
  if (mtu) fail_given_twice(flag, last);
  mtu = parse_mtu(flag, value);
}

void set_mac(CommonFlagState& s, std::string_view flag, std::string_view value) {
  InterfaceOptions* last = last_interface(s);
  std::optional<MacAddress>& mac = last ? last->mac : s.all_mac;
  if (mac) fail_given_twice(flag, last);
  mac = parse_mac(flag, value);
}

void set_gateway(CommonFlagState& s, std::string_view flag, std::string_view value) {
  if (s.options.gateway) fail(flag, "given twice; expected one default gateway");
  s.options.gateway = parse_gateway(flag, value, "an IPv4 address like 10.0.0.1");
}

void add_route(CommonFlagState& s, std::string_view flag, std::string_view value) {
  s.options.routes.push_back(parse_route(flag, value));
}

void set_forward(CommonFlagState& s, std::string_view, std::string_view) {
  s.options.forward = true;
}

// As Linux's force_igmp_version (RFC 3376 §7 otherwise picks the version).
void set_igmp_version(CommonFlagState& s, std::string_view flag, std::string_view value) {
  if (value != "1" && value != "2" && value != "3") {
    fail(flag, OptionParser::expected("1, 2 or 3", value));
  }
  s.options.igmp_version = value[0] - '0';
}

// RFC 9293 §3.4.2 suggests 2 minutes; Linux's TIME-WAIT of 60 s means an MSL of 30 s. A short
// one is for tests and labs that open many connections.
void set_msl(CommonFlagState& s, std::string_view flag, std::string_view value) {
  const std::string text(value);
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(seconds >= 0.001) || seconds > 3600) {
    fail(flag, OptionParser::expected("seconds from 0.001 to 3600 like 30 or 0.5", value));
  }
  s.options.msl = Duration{static_cast<std::int64_t>(seconds * 1e6)};
}

// Linux's net.ipv4.tcp_congestion_control: the algorithm of every connection whose socket
// sets no TCP_CONGESTION.
void set_congestion(CommonFlagState& s, std::string_view flag, std::string_view value) {
  std::string names;
  for (const std::string_view name : tcp::available_congestion()) {
    if (name == value) {
      s.options.congestion = name;
      return;
    }
    names += names.empty() ? "" : ", ";
    names += name;
  }
  fail(flag, OptionParser::expected("one of " + names, value));
}

// Linux's net.ipv4.tcp_syncookies: 1 (cookies once a SYN queue is full, the default) or 0.
void set_syn_cookies(CommonFlagState& s, std::string_view flag, std::string_view value) {
  if (value != "on" && value != "off") fail(flag, OptionParser::expected("on or off", value));
  s.options.syn_cookies = value == "on";
}

// TAP offloads (IFF_VNET_HDR, TUNSETOFFLOAD): on by default; off keeps one frame per packet.
void set_offload(CommonFlagState& s, std::string_view flag, std::string_view value) {
  if (value != "on" && value != "off") fail(flag, OptionParser::expected("on or off", value));
  s.options.offload = value == "on";
}

// The caps a flood runs into, each with its counter (docs/ROBUSTNESS.md, "Caps"). Names as
// the key of --limit, the bound a value may take, and where it goes.
struct LimitKey {
  std::string_view key;
  std::size_t min;
  std::size_t max;
  std::optional<std::size_t> Limits::*field;
};
constexpr LimitKey kLimitKeys[] = {
    {"arp-entries", 1, 1 << 24, &Limits::arp_entries},
    {"arp-queue-bytes", 0, std::size_t{1} << 32, &Limits::arp_queue_bytes},
    {"reasm-bytes", 0, std::size_t{1} << 32, &Limits::reasm_bytes},
    {"reasm-bytes-per-source", 0, std::size_t{1} << 32, &Limits::reasm_bytes_per_source},
    {"syn-backlog", 1, 1 << 24, &Limits::syn_backlog},
    {"syn-per-source", 1, 1 << 24, &Limits::syn_per_source},
    {"connections", 1, 1 << 26, &Limits::connections},
    {"echo-rate", 1, 1'000'000, &Limits::echo_rate},
};

void set_limit(CommonFlagState& s, std::string_view flag, std::string_view value) {
  std::string keys;
  for (const LimitKey& k : kLimitKeys) keys += (keys.empty() ? "" : ", ") + std::string(k.key);
  if (value.empty()) fail(flag, OptionParser::expected("KEY=N with KEY one of " + keys, value));
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    const auto eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const LimitKey* found = nullptr;
    for (const LimitKey& k : kLimitKeys) {
      if (k.key == key) found = &k;
    }
    if (!found || eq == std::string_view::npos) {
      fail(flag, OptionParser::expected("KEY=N with KEY one of " + keys, item));
    }
    const std::string number(item.substr(eq + 1));
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(number.c_str(), &end, 10);
    if (number.empty() || number[0] == '-' || *end != '\0' || errno != 0 || n < found->min ||
        n > found->max) {
      fail(flag, OptionParser::expected(std::string(key) + "=N with N from " +
                                            std::to_string(found->min) + " to " +
                                            std::to_string(found->max),
                                        item));
    }
    s.options.limits.*(found->field) = static_cast<std::size_t>(n);
  }
}

void set_pcap(CommonFlagState& s, std::string_view flag, std::string_view value) {
  if (value.empty()) fail(flag, OptionParser::expected("a file name", value));
  s.options.pcap = std::string(value);
}

void set_fault(CommonFlagState& s, std::string_view flag, std::string_view value) {
  if (s.options.fault) fail(flag, "given twice; expected one SPEC for every interface");
  s.options.fault = parse_fault_spec(value);
}

void add_trace(CommonFlagState& s, std::string_view flag, std::string_view value) {
  std::string bad;
  auto mask = Trace::parse_layers(value, &bad);
  if (!mask || value.empty()) {
    fail(flag, "unknown layer " + quoted(bad) + "; expected a comma list of " +
                   std::string(kTraceLayers) + ", or all");
  }
  s.options.trace_layers |= *mask;
}

void set_stats(CommonFlagState& s, std::string_view, std::string_view) {
  s.options.stats = true;
}

void set_name(CommonFlagState& s, std::string_view flag, std::string_view value) {
  // The name becomes a file name in /run/tapir: no '/', no leading '.', printable.
  bool ok = !value.empty() && value.size() <= 64 && value.front() != '.';
  for (char c : value) ok = ok && std::isgraph(static_cast<unsigned char>(c)) && c != '/';
  if (!ok)
    fail(flag, OptionParser::expected("a name of 1..64 printable characters, no '/'", value));
  s.options.name = std::string(value);
}

void set_no_ctl(CommonFlagState& s, std::string_view, std::string_view) {
  s.options.no_ctl = true;
}

void set_help(CommonFlagState& s, std::string_view, std::string_view) {
  s.options.help = true;
}

constexpr CommonFlag kCommonFlags[] = {
    {"--tap", "NAME", "attach to TAP NAME (created if missing); repeat for more interfaces",
     add_interface},
    {"--packet", "IFNAME", "use existing interface IFNAME through AF_PACKET (no Linux IPv4 on it)",
     add_interface},
    {"--ip", "ADDR/PREFIX", "address of the interface named just before", set_address},
    {"--mac", "MAC", "MAC of the interface before (before any interface: of all of them)", set_mac},
    {"--mtu", "N", "MTU 68..65535 of the interface before (before any interface: all)", set_mtu},
    {"--gw", "ADDR", "default gateway", set_gateway},
    {"--route", "NET/PREFIX,GW", "static route; repeatable", add_route},
    {"--forward", "", "forward datagrams between interfaces (be a router)", set_forward},
    {"--igmp-version", "N", "force IGMP version 1, 2 or 3 (default: 3, older if a querier is)",
     set_igmp_version},
    {"--msl", "SECONDS", "TCP maximum segment lifetime; TIME-WAIT is twice it (default 30)",
     set_msl},
    {"--congestion", "NAME", "TCP congestion control: reno, newreno or cubic (default cubic)",
     set_congestion},
    {"--syn-cookies", "on|off",
     "answer SYNs with SYN cookies when a SYN queue is full (default on)", set_syn_cookies},
    {"--offload", "on|off",
     "take the kernel's TCP super-frames and partial checksums on a TAP (default on, but off"
     " with --forward or --fault)",
     set_offload},
    {"--limit", "KEY=N,...",
     "caps: arp-entries, arp-queue-bytes, reasm-bytes, reasm-bytes-per-source, syn-backlog, "
     "syn-per-source, connections,"
     " echo-rate",
     set_limit},
    {"--pcap", "FILE", "write every frame in and out to FILE (pcap, for Wireshark)", set_pcap},
    {"--fault", "SPEC", "impair every link both ways: loss=5%,delay=15ms,jitter=10ms,seed=1,...",
     set_fault},
    {"--trace", "LAYERS", "print one line per decision of LAYERS (eth,arp,ip,icmp,... or all)",
     add_trace},
    {"--stats", "", "print counters on exit (SIGUSR1 prints them any time)", set_stats},
    {"--name", "NAME",
     "control socket NAME.sock in /run/tapir ($TAPIR_CTL_DIR) for tapirctl (default PROGRAM-PID)",
     set_name},
    {"--no-ctl", "", "no control socket", set_no_ctl},
    {"--help", "", "show this help", set_help},
};

// Checks that need the whole command line.
void check_complete(const HostOptions& o) {
  if (o.interfaces.empty()) {
    throw OptionError("expected at least one --tap NAME or --packet IFNAME (try --help)");
  }
  for (std::size_t i = 0; i < o.interfaces.size(); ++i) {
    for (std::size_t j = i + 1; j < o.interfaces.size(); ++j) {
      const auto& a = o.interfaces[i];
      const auto& b = o.interfaces[j];
      if (a.address && b.address && a.address->address == b.address->address) {
        fail("--ip", a.address->address.to_string() + " is on both " + a.device + " and " +
                         b.device + "; expected one address per host");
      }
    }
  }
  // RFC 1122 §3.3.1.1: a gateway must be on a directly connected network.
  auto check_reachable = [&o](std::string_view flag, Ipv4Address gateway) {
    for (const auto& itf : o.interfaces) {
      if (!itf.address) continue;
      if (itf.address->address == gateway) {
        fail(flag, gateway.to_string() + " is this host's own address; expected a neighbour");
      }
      if (itf.address->contains(gateway)) return;
    }
    fail(flag, gateway.to_string() +
                   " is not on any interface's network; expected a neighbour inside an --ip "
                   "prefix");
  };
  if (o.gateway) check_reachable("--gw", *o.gateway);
  for (const auto& r : o.routes) check_reachable("--route", r.gateway);
}

}  // namespace

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

[[noreturn]] void fail(std::string_view flag, std::string_view message) {
  throw OptionError(std::string(flag) + ": " + std::string(message));
}

std::span<const CommonFlag> common_flags() {
  return kCommonFlags;
}

const CommonFlag* find_common_flag(std::string_view name) {
  for (const CommonFlag& f : kCommonFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

HostOptions finish_common_flags(CommonFlagState state) {
  HostOptions& o = state.options;
  for (auto& itf : o.interfaces) {
    if (!itf.mtu) itf.mtu = state.all_mtu;
    if (!itf.mac) itf.mac = state.all_mac;
  }
  check_complete(o);
  return std::move(o);
}

LinkConfig parse_fault_spec(std::string_view spec) {
  constexpr std::string_view flag = "--fault";
  constexpr std::string_view keys[] = {"loss",   "duplicate",     "reorder", "delay",
                                       "jitter", "reorder-delay", "seed"};
  LinkConfig link;
  std::vector<std::string_view> seen;
  std::string_view rest = spec;
  for (;;) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const auto eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (eq == std::string_view::npos ||
        std::find(std::begin(keys), std::end(keys), key) == std::end(keys)) {
      fail(flag, OptionParser::expected(kFaultKeys, item));
    }
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      fail(flag, std::string(key) + " is given twice; expected each key once");
    }
    seen.push_back(key);
    const std::string what = std::string(key) + " as ";
    if (key == "loss" || key == "duplicate" || key == "reorder") {
      auto p = parse_probability(value);
      if (!p) {
        fail(flag,
             OptionParser::expected(what + "a probability from 0% to 100% like 5% or 0.05", value));
      }
      (key == "loss" ? link.loss : key == "duplicate" ? link.duplicate : link.reorder) = *p;
    } else if (key == "seed") {
      // parse_integer's long: 63 bits are seeds enough.
      auto n = parse_integer(value, 0, std::numeric_limits<long>::max());
      if (!n) fail(flag, OptionParser::expected(what + "a whole number like 1", value));
      link.seed = static_cast<std::uint64_t>(*n);
    } else {
      auto d = parse_fault_duration(value);
      if (!d) {
        fail(flag, OptionParser::expected(what + "a duration like 20ms (us, ms or s; at most 60s)",
                                          value));
      }
      (key == "delay" ? link.delay : key == "jitter" ? link.jitter : link.reorder_delay) = *d;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return link;
}

}  // namespace tapir::runtime
