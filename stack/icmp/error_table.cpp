// The ICMP error to errno table: Linux's icmp_err_convert, so a socket user sees what a Linux
// socket would for the same message.
#include "stack/icmp/error_table.hpp"

#include <array>
#include <cerrno>

namespace tapir::icmp {

namespace {

// Destination unreachable, by code (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). "Hard"
// follows Linux: a port or protocol unreachable says no one will ever answer; a network or
// host unreachable may pass as the routes change, so it only counts when asked for
// (IP_RECVERR) or while a connection is opening.
constexpr std::array<ErrnoOf, 16> unreachable_errors{{
    {ENETUNREACH, false},   // 0 net unreachable
    {EHOSTUNREACH, false},  // 1 host unreachable
    {ENOPROTOOPT, true},    // 2 protocol unreachable
    {ECONNREFUSED, true},   // 3 port unreachable
    {EMSGSIZE, false},      // 4 fragmentation needed and DF set
    {EOPNOTSUPP, false},    // 5 source route failed
    {ENETUNREACH, true},    // 6 destination network unknown
    {EHOSTDOWN, true},      // 7 destination host unknown
    {ENONET, true},         // 8 source host isolated
    {ENETUNREACH, true},    // 9 network administratively prohibited
    {EHOSTUNREACH, true},   // 10 host administratively prohibited
    {ENETUNREACH, false},   // 11 network unreachable for TOS
    {EHOSTUNREACH, false},  // 12 host unreachable for TOS
    {EHOSTUNREACH, true},   // 13 communication administratively prohibited (RFC 1812)
    {EHOSTUNREACH, true},   // 14 host precedence violation
    {EHOSTUNREACH, true},   // 15 precedence cutoff in effect
}};

}  // namespace

std::optional<ErrnoOf> errno_of(Type type, std::uint8_t code) {
  switch (type) {
    case Type::dest_unreachable:
      // A code past the table is an unreachable all the same.
      return code < unreachable_errors.size() ? unreachable_errors[code]
                                              : ErrnoOf{EHOSTUNREACH, false};
    case Type::time_exceeded:
      return ErrnoOf{EHOSTUNREACH, false};
    case Type::parameter_problem:
      return ErrnoOf{EPROTO, true};
    default:
      return std::nullopt;
  }
}

}  // namespace tapir::icmp
