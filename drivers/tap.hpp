// TapDriver: a Linux TAP device (Ethernet frames through /dev/net/tun), created or attached.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "drivers/driver.hpp"
#include "drivers/vnet_header.hpp"

namespace tapir {

class TapDriver final : public Driver {
 public:
  // Attaches to the TAP `name` if it exists (e.g. made by `ip tuntap add mode tap tap0`), or
  // creates it, sets its MTU to `mtu` (0: leave the kernel's default) and brings it up.
  // Throws std::system_error naming the device and the likely cause when that fails.
  //
  // With `offload`, the device is opened with IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM |
  // TUN_F_TSO4): the kernel may then hand over TCP super-frames of up to 64 KiB (its GSO
  // segments, unsplit) with a partial checksum, which receive() completes before the stack
  // sees the frame; what tapir sends goes out with an empty header (whole frames, checksummed).
  // A kernel that refuses the offloads leaves plain frames (offloads() says which).
  explicit TapDriver(std::string name, std::uint32_t mtu = 0, bool offload = false);
  ~TapDriver() override;
  TapDriver(const TapDriver&) = delete;
  TapDriver& operator=(const TapDriver&) = delete;

  int fd() const override { return fd_; }
  std::size_t receive(Instant now, const FrameHandler& on_frame, std::size_t budget) override;
  void transmit(Instant now, std::span<const std::uint8_t> frame) override;
  std::string name() const override { return name_; }
  bool gone() const override { return gone_; }
  // hardware_address() stays empty on purpose: the MAC the kernel shows for the TAP belongs to
  // the Linux end of the "wire", so tapir's end needs a different one.

  // True when this driver created the device (it then disappears when the driver closes).
  bool created() const { return created_; }
  std::uint64_t rx_errors() const { return rx_errors_; }
  // Opened with IFF_VNET_HDR and the kernel took TUNSETOFFLOAD.
  bool offloads() const { return offloads_; }
  const VnetCounters& vnet_counters() const { return vnet_counters_; }
  void for_each_counter(const CounterFn& f) const override;

 private:
  std::string name_;
  int fd_ = -1;
  bool created_ = false;
  bool gone_ = false;
  std::uint64_t rx_errors_ = 0;
  bool vnet_ = false;      // IFF_VNET_HDR: a header before every frame, both ways
  bool offloads_ = false;  // and the kernel took TUNSETOFFLOAD
  VnetCounters vnet_counters_;
  std::uint64_t csum_completed_ = 0;  // partial checksums (NEEDS_CSUM) finished here
  std::unique_ptr<std::uint8_t[]> buffer_;
};

}  // namespace tapir
