// Option checks: ready-made OptionParser checks for the values apps take (counts, ports, seconds,
// IPv4 addresses), each with the house-style error `expected WHAT, got "VALUE"`.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/options.hpp"

namespace tapir {

// A whole number in decimal from min to max, all of `text`; nullopt otherwise.
std::optional<long> parse_integer(std::string_view text, long min, long max);
// Seconds, fractions allowed ("0.2"), from min to max, to the microsecond; nullopt otherwise
// (so for "nan" and "inf").
std::optional<std::chrono::microseconds> parse_seconds(std::string_view text, double min,
                                                       double max);

// Each check hands the value to `use` when it is good; `what` completes the error line.
OptionParser::ValueCheck integer_check(long min, long max, std::string what,
                                       std::function<void(long)> use);
OptionParser::ValueCheck seconds_check(double min, double max, std::string what,
                                       std::function<void(std::chrono::microseconds)> use);
// inet_pton(3)'s dotted quad.
OptionParser::ValueCheck address_check(std::string what, std::function<void(in_addr)> use);
// A count of 1 or more (up to 2^62, far from overflowing a long).
OptionParser::ValueCheck count_check(std::function<void(long)> use);
// A UDP port 1..65535 (0 is no port to send to or listen on).
OptionParser::ValueCheck port_check(std::function<void(std::uint16_t)> use);

}  // namespace tapir
