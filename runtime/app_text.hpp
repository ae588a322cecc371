// App text: lines the sample apps print for people and scripts (the ready line, addresses,
// payloads made safe for a terminal).
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace tapir {

class Host;

// Prints "ready tap0 10.0.0.2/24 02:00:0a:00:00:02 tap1 ..." (an interface without an address
// shows "-") to stdout, flushed: scripts wait for this line before they send anything.
void print_ready_line(Host& host);

// "10.0.0.1"
std::string address_text(in_addr address);
// "10.0.0.1:7"
std::string address_text(const sockaddr_in& address);

// Printable ASCII as is, the rest as C escapes ("\n", "\\", "\x00"); past `shown` bytes, "...".
std::string printable(const std::uint8_t* data, std::size_t len,
                      std::size_t shown = std::numeric_limits<std::size_t>::max());

}  // namespace tapir
