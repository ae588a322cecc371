// App text: formatting the lines the sample apps print.
#include <arpa/inet.h>

#include <cstdio>

#include <tapir/app.hpp>
#include <tapir/host.hpp>

namespace tapir {

void print_ready_line(Host& host) {
  std::string line = "ready";
  for (const InterfaceInfo& itf : host.interfaces()) {
    line += " " + itf.name + " " + itf.address.value_or("-") + " " + itf.mac;
  }
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string address_text(in_addr address) {
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &address, text, sizeof text);
  return text;
}

std::string address_text(const sockaddr_in& address) {
  return address_text(address.sin_addr) + ":" + std::to_string(ntohs(address.sin_port));
}

std::string printable(const std::uint8_t* data, std::size_t len, std::size_t shown) {
  std::string out;
  for (std::size_t i = 0; i < len && i < shown; ++i) {
    const std::uint8_t c = data[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (len > shown) out += "...";
  return out;
}

}  // namespace tapir
