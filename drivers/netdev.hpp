// netdev: reads and sets a Linux network device's flags, MTU and MAC by name (SIOC*IF* ioctls).
#pragma once

#include <cstdint>
#include <string>

#include "stack/core/address.hpp"

namespace tapir::netdev {

// The longest interface name Linux accepts (IFNAMSIZ - 1, netdevice(7)).
inline constexpr std::size_t max_name_len = 15;

// Each function throws std::system_error naming the device and the operation on failure.
unsigned index_of(const std::string& name);  // 0 if there is no such device (no throw)
void bring_up(const std::string& name);      // sets IFF_UP (SIOCSIFFLAGS)
void set_mtu(const std::string& name, std::uint32_t mtu);
std::uint32_t mtu_of(const std::string& name);
MacAddress hardware_address_of(const std::string& name);  // SIOCGIFHWADDR

}  // namespace tapir::netdev
