// What socket callers pass in and get back: int option values and sockaddr_in, as Linux reads
// and writes them.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "stack/core/address.hpp"

namespace tapir::sock {

// Copies an option value: truncated to *len, and *len set to what was copied (as Linux's
// sock_getsockopt, unlike addresses).
template <typename T>
void copy_option(const T& value, void* out, socklen_t* len) {
  const auto n = std::min<socklen_t>(*len, sizeof(T));
  std::memcpy(out, &value, n);
  *len = n;
}

// Reads an int option as Linux does: at least sizeof(int) bytes, else EINVAL.
inline int read_int(const void* value, socklen_t len, int& out) {
  if (!value || len < static_cast<socklen_t>(sizeof(int))) return -EINVAL;
  std::memcpy(&out, value, sizeof(int));
  return 0;
}

inline sockaddr_in to_sockaddr(Ipv4Address addr, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(addr.value());
  return sin;
}

}  // namespace tapir::sock
