// PacketDriver: raw Ethernet frames on one interface through AF_PACKET (packet(7)).
#include "drivers/af_packet.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "drivers/netdev.hpp"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23  // Linux 4.20, linux/if_packet.h
#endif

namespace tapir {

PacketDriver::PacketDriver(std::string interface)
    : name_(std::move(interface)), buffer_(new std::uint8_t[max_frame_size]) {
  ifindex_ = static_cast<int>(netdev::index_of(name_));
  if (ifindex_ == 0) {
    throw std::system_error(ENODEV, std::system_category(), "no interface " + name_);
  }
  mac_ = netdev::hardware_address_of(name_);
  mtu_ = netdev::mtu_of(name_);

  // packet(7): with protocol 0 the socket receives nothing until bind() names the protocol and
  // the interface, so no frame of another interface slips in between socket() and bind().
  fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    const int error = errno;
    throw std::system_error(error, std::system_category(),
                            error == EPERM ? "cannot open an AF_PACKET socket on " + name_ +
                                                 " (needs root or CAP_NET_RAW)"
                                           : "cannot open an AF_PACKET socket on " + name_);
  }
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = ifindex_;
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::system_category(), "cannot bind to " + name_);
  }
  // Our own transmissions would otherwise come back on the socket (PACKET_OUTGOING); on
  // kernels before 4.20 receive() filters them by sll_pkttype instead.
  const int one = 1;
  (void)::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
}

PacketDriver::~PacketDriver() {
  if (fd_ >= 0) ::close(fd_);
}

void PacketDriver::set_promiscuous(bool on) {
  packet_mreq request{};
  request.mr_ifindex = ifindex_;
  request.mr_type = PACKET_MR_PROMISC;
  const int option = on ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
  if (::setsockopt(fd_, SOL_PACKET, option, &request, sizeof request) < 0) {
    throw std::system_error(errno, std::system_category(), "cannot set " + name_ + " promiscuous");
  }
}

std::size_t PacketDriver::receive(Instant /*now*/, const FrameHandler& on_frame,
                                  std::size_t budget) {
  std::size_t count = 0;
  while (count < budget) {
    sockaddr_ll from{};
    socklen_t from_len = sizeof from;
    // MSG_TRUNC: the return value is the frame's real length, so an oversize frame is seen
    // (and counted) rather than handed up cut short.
    const ssize_t n = ::recvfrom(fd_, buffer_.get(), max_frame_size, MSG_TRUNC,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      ++rx_errors_;
      // packet(7) reports ENETDOWN once when the interface goes down; that is only fatal if
      // it was deleted (the socket stays unbound even if a namesake comes back).
      if (errno == ENETDOWN && netdev::index_of(name_) != static_cast<unsigned>(ifindex_)) {
        gone_ = true;
      }
      break;
    }
    if (from.sll_pkttype == PACKET_OUTGOING) continue;
    if (static_cast<std::size_t>(n) > max_frame_size) {
      ++rx_errors_;
      continue;
    }
    ++count;
    on_frame(std::span<const std::uint8_t>(buffer_.get(), static_cast<std::size_t>(n)));
  }
  return count;
}

void PacketDriver::transmit(Instant /*now*/, std::span<const std::uint8_t> frame) {
  for (;;) {
    // The socket is bound to the interface, so send() needs no address: the frame goes out
    // as is, Ethernet header included (SOCK_RAW).
    if (::send(fd_, frame.data(), frame.size(), MSG_DONTWAIT) >= 0) return;
    if (errno == EINTR) continue;
    // ENOBUFS/EAGAIN (queue full), EMSGSIZE (above the device MTU), ENETDOWN: lost on the
    // wire, counted (RFC 1122 §2.4).
    ++tx_dropped_;
    return;
  }
}

}  // namespace tapir
