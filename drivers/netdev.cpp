// netdev: device ioctls through a throwaway AF_INET datagram socket, as ip(8) and ifconfig do.
#include "drivers/netdev.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace tapir::netdev {

namespace {

// netdevice(7): these ioctls work on any socket; the socket only names the namespace.
class ControlSocket {
 public:
  ControlSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::system_error(errno, std::system_category(), "socket(AF_INET)");
  }
  ~ControlSocket() { ::close(fd_); }
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  void ioctl(unsigned long request, ifreq& ifr, const std::string& name,
             const std::string& what) const {
    if (::ioctl(fd_, request, &ifr) < 0) {
      throw std::system_error(errno, std::system_category(), name + ": " + what);
    }
  }

 private:
  int fd_;
};

ifreq request_for(const std::string& name) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return ifr;
}

}  // namespace

unsigned index_of(const std::string& name) {
  return ::if_nametoindex(name.c_str());
}

void bring_up(const std::string& name) {
  ControlSocket sock;
  ifreq ifr = request_for(name);
  sock.ioctl(SIOCGIFFLAGS, ifr, name, "cannot read interface flags");
  if (ifr.ifr_flags & IFF_UP) return;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  sock.ioctl(SIOCSIFFLAGS, ifr, name, "cannot bring the interface up");
}

void set_mtu(const std::string& name, std::uint32_t mtu) {
  ControlSocket sock;
  ifreq ifr = request_for(name);
  ifr.ifr_mtu = static_cast<int>(mtu);
  sock.ioctl(SIOCSIFMTU, ifr, name, "cannot set MTU " + std::to_string(mtu));
}

std::uint32_t mtu_of(const std::string& name) {
  ControlSocket sock;
  ifreq ifr = request_for(name);
  sock.ioctl(SIOCGIFMTU, ifr, name, "cannot read the MTU");
  return static_cast<std::uint32_t>(ifr.ifr_mtu);
}

MacAddress hardware_address_of(const std::string& name) {
  ControlSocket sock;
  ifreq ifr = request_for(name);
  sock.ioctl(SIOCGIFHWADDR, ifr, name, "cannot read the hardware address");
  return MacAddress::from(reinterpret_cast<const std::uint8_t*>(ifr.ifr_hwaddr.sa_data));
}

}  // namespace tapir::netdev
