// The ICMP message: which types are errors, and building a message with its checksum.
#include "stack/icmp/message.hpp"

#include <algorithm>

#include "stack/core/checksum.hpp"

namespace tapir::icmp {

bool Repr::is_error(Type type) {
  switch (type) {
    case Type::dest_unreachable:
    case Type::source_quench:
    case Type::redirect:
    case Type::time_exceeded:
    case Type::parameter_problem:
      return true;
    default:
      return false;
  }
}

Packet build(const Repr& repr, std::span<const std::uint8_t> body) {
  Packet p(header_len + body.size());
  View m(p.bytes());
  m.set_type(repr.type);
  m.set_code(repr.code);
  m.set_checksum(0);
  m.set_rest(repr.rest);
  std::copy(body.begin(), body.end(), p.data() + header_len);
  m.set_checksum(internet_checksum(p.bytes()));
  return p;
}

}  // namespace tapir::icmp
