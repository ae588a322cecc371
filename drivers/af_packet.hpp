// PacketDriver: an AF_PACKET raw socket bound to one existing interface (e.g. a veth end).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "drivers/driver.hpp"

namespace tapir {

// tapir takes over the interface's link: the interface should have no Linux IPv4 address,
// or the kernel answers ARP and ping for it too and both stacks reply to the same frames.
// The kernel still sees every frame we see (AF_PACKET taps, it does not steal).
//
// Checksum offload: frames the Linux peer sends over a veth may carry partial TCP/UDP
// checksums (CHECKSUM_PARTIAL); turn it off on the peer (`ethtool -K PEER tx off`) so tapir
// sees complete ones. ICMP is always checksummed in software.
class PacketDriver final : public Driver {
 public:
  // Throws std::system_error when the interface does not exist or the socket cannot be made.
  explicit PacketDriver(std::string interface);
  ~PacketDriver() override;
  PacketDriver(const PacketDriver&) = delete;
  PacketDriver& operator=(const PacketDriver&) = delete;

  int fd() const override { return fd_; }
  std::size_t receive(Instant now, const FrameHandler& on_frame, std::size_t budget) override;
  void transmit(Instant now, std::span<const std::uint8_t> frame) override;
  // The interface's own MAC, so tapir is the interface by default and needs no promiscuity.
  std::optional<MacAddress> hardware_address() const override { return mac_; }
  std::string name() const override { return name_; }
  bool gone() const override { return gone_; }

  std::uint32_t mtu() const { return mtu_; }
  // Needed when tapir uses another MAC than the interface's (--mac): the NIC then drops
  // frames for it unless promiscuous. The membership ends when the socket closes.
  void set_promiscuous(bool on);
  std::uint64_t rx_errors() const { return rx_errors_; }

 private:
  std::string name_;
  int fd_ = -1;
  int ifindex_ = 0;
  MacAddress mac_;
  std::uint32_t mtu_ = 1500;
  bool gone_ = false;
  std::uint64_t rx_errors_ = 0;
  std::unique_ptr<std::uint8_t[]> buffer_;
};

}  // namespace tapir
