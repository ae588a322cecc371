// Option checks: reading numbers, seconds and addresses from the command line, strictly.
#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <tapir/app.hpp>

namespace tapir {

namespace {

// Seconds, fractions allowed ("0.2"), from min to max, to the microsecond; nullopt otherwise
// (so for "nan" and "inf").
std::optional<std::chrono::microseconds> parse_seconds(std::string_view text, double min,
                                                       double max) {
  const std::string s(text);  // strtod wants a terminated string
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v < min || v > max) return std::nullopt;
  return std::chrono::microseconds(std::llround(v * 1e6));
}

// "10.0.0.1:7": the address and the port after the last colon.
std::optional<sockaddr_in> parse_address_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  const std::string host(text.substr(0, colon));
  const auto port = parse_integer(text.substr(colon + 1), 1, 65535);
  if (!port || inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) return std::nullopt;
  sin.sin_port = htons(static_cast<std::uint16_t>(*port));
  return sin;
}

}  // namespace

std::optional<long> parse_integer(std::string_view text, long min, long max) {
  long v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max) return std::nullopt;
  return v;
}

OptionParser::ValueCheck integer_check(long min, long max, std::string what,
                                       std::function<void(long)> use) {
  return [=](std::string_view v) -> std::optional<std::string> {
    const auto n = parse_integer(v, min, max);
    if (!n) return OptionParser::expected(what, v);
    use(*n);
    return std::nullopt;
  };
}

OptionParser::ValueCheck seconds_check(double min, double max, std::string what,
                                       std::function<void(std::chrono::microseconds)> use) {
  return [=](std::string_view v) -> std::optional<std::string> {
    const auto s = parse_seconds(v, min, max);
    if (!s) return OptionParser::expected(what, v);
    use(*s);
    return std::nullopt;
  };
}

OptionParser::ValueCheck address_check(std::string what, std::function<void(in_addr)> use) {
  return [=](std::string_view v) -> std::optional<std::string> {
    in_addr address{};
    if (inet_pton(AF_INET, std::string(v).c_str(), &address) != 1) {
      return OptionParser::expected(what, v);
    }
    use(address);
    return std::nullopt;
  };
}

OptionParser::ValueCheck group_check(std::function<void(in_addr)> use) {
  return [use = std::move(use)](std::string_view v) -> std::optional<std::string> {
    in_addr group{};
    if (inet_pton(AF_INET, std::string(v).c_str(), &group) != 1 ||
        (ntohl(group.s_addr) >> 28) != 0xe) {
      return OptionParser::expected("a multicast address like 239.1.2.3", v);
    }
    use(group);
    return std::nullopt;
  };
}

OptionParser::ValueCheck address_port_check(std::string what,
                                            std::function<void(const sockaddr_in&)> use) {
  return [=](std::string_view v) -> std::optional<std::string> {
    const auto address = parse_address_port(v);
    if (!address) return OptionParser::expected(what, v);
    use(*address);
    return std::nullopt;
  };
}

OptionParser::ValueCheck count_check(std::function<void(long)> use) {
  return integer_check(1, 1L << 62, "a count of 1 or more", std::move(use));
}

OptionParser::ValueCheck port_check(std::function<void(std::uint16_t)> use) {
  return integer_check(1, 65535, "a port 1..65535",
                       [use = std::move(use)](long n) { use(static_cast<std::uint16_t>(n)); });
}

}  // namespace tapir
