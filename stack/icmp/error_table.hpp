// The one table from a received ICMP error's type and code to the errno every transport
// reports, with whether it is "hard" (RFC 1122 §4.2.3.9; the values are Linux's).
#pragma once

#include <cstdint>
#include <optional>

#include "stack/icmp/message.hpp"

namespace tapir::icmp {

struct ErrnoOf {
  int error = 0;
  bool hard = false;
};

// nullopt for a type that is not an error a transport hears of (redirects, source quench).
std::optional<ErrnoOf> errno_of(Type type, std::uint8_t code);

}  // namespace tapir::icmp
