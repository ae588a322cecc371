// tapird's UDP services: each datagram to port 7, 9, 13 or 19 answered as its RFC says.
#include "udp_services.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace tapird {

std::string UdpServices::open() {
  for (int i = 0; i < kServiceCount; ++i) {
    // Non-blocking: after poll says a socket is readable, it is drained until EAGAIN.
    const int fd = tapir::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(kServicePorts[i]);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (fd < 0 || tapir::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      return std::string("udp ") + kServiceNames[i] + ": " + std::strerror(errno);
    }
    fds_[i] = pollfd{fd, POLLIN, 0};
  }
  return "";
}

void UdpServices::start() {
  thread_ = std::thread([this] { run(); });
}

void UdpServices::stop() {
  stopping_ = true;
  for (pollfd& p : fds_) {
    if (p.fd >= 0) tapir::close(p.fd);
  }
  if (thread_.joinable()) thread_.join();
}

void UdpServices::run() {
  while (!stopping_) {
    if (tapir::poll(fds_.data(), fds_.size(), -1) < 0) return;  // the Host stopped
    for (int i = 0; i < kServiceCount && !stopping_; ++i) {
      if (fds_[i].revents & POLLIN) serve(static_cast<Service>(i));
    }
  }
}

void UdpServices::serve(Service service) {
  const int fd = fds_[service].fd;
  for (int n = 0; n < batch; ++n) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t got = tapir::recvfrom(fd, buffer_.data(), buffer_.size(), 0,
                                        reinterpret_cast<sockaddr*>(&from), &from_len);
    if (got < 0) return;  // EAGAIN: drained (or EBADF: stopping)
    // Never answer another small service: an echo or chargen at the other end would answer
    // back, and the two would bounce datagrams forever (CERT CA-1996-01). Port 0 is no
    // source at all.
    const std::uint16_t port = ntohs(from.sin_port);
    if (port == 0 || port == 7 || port == 9 || port == 13 || port == 19) continue;
    switch (service) {
      case echo:  // RFC 862: "send back ... the data it received"
        reply(fd, from, buffer_.data(), static_cast<std::size_t>(got));
        break;
      case discard:  // RFC 863: "throw away any data it receives"
        break;
      case daytime: {  // RFC 867: the data received is ignored
        const std::string line = daytime_line();
        reply(fd, from, line.data(), line.size());
        break;
      }
      case chargen: {  // RFC 864: the data received is ignored
        const std::string data = chargen_.next_datagram();
        reply(fd, from, data.data(), data.size());
        break;
      }
    }
  }
}

void UdpServices::reply(int fd, const sockaddr_in& to, const void* data, std::size_t len) {
  (void)tapir::sendto(fd, data, len, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

}  // namespace tapird
