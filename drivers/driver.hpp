// Driver: the small interface every link device implements (TAP, AF_PACKET, memory link), and
// that decorators (pcap writer, fault injector) wrap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "stack/core/address.hpp"
#include "stack/core/time.hpp"

namespace tapir {

// The largest frame a driver carries: a 65535-byte MTU (the IPv4 maximum, and the TAP's) plus an
// Ethernet header and one 802.1Q tag. Receive buffers are at least this big.
inline constexpr std::size_t max_frame_size = 65535 + 14 + 4;

using FrameHandler = std::function<void(std::span<const std::uint8_t> frame)>;

class Driver {
 public:
  virtual ~Driver() = default;

  // A file descriptor that polls readable when receive() has frames; -1 if there is none
  // (memory links), in which case the owner relies on next_deadline() and its own wake-ups.
  virtual int fd() const = 0;
  // Hands every ready frame (up to `budget`) to `on_frame` without blocking; returns how many.
  virtual std::size_t receive(Instant now, const FrameHandler& on_frame, std::size_t budget) = 0;
  // Sends one frame (up to 64 KiB); a frame that cannot be sent is dropped and counted.
  virtual void transmit(Instant now, std::span<const std::uint8_t> frame) = 0;
  // When a delayed frame (fault injection, memory link latency) becomes ready.
  virtual std::optional<Instant> next_deadline() const { return std::nullopt; }

  // The device's own hardware address, if it has one the stack should use by default.
  virtual std::optional<MacAddress> hardware_address() const { return std::nullopt; }
  virtual std::string name() const = 0;
  // The device disappeared under us (a TAP or interface deleted): nothing will ever arrive
  // again, and an owner polling its fd would spin on the error it reports.
  virtual bool gone() const { return false; }
  // Frames transmit() could not send (device full, too big, no peer). Decorators add their
  // inner driver's count, so the owner reads one number per interface.
  virtual std::uint64_t tx_dropped() const { return tx_dropped_; }
  // The driver's own counters beyond tx_dropped() (a TAP's offload counters), as name and
  // value; decorators pass their inner driver's on.
  using CounterFn = std::function<void(std::string_view name, std::uint64_t value)>;
  virtual void for_each_counter(const CounterFn& /*f*/) const {}

  // For drivers without an fd: `wake` is called (from whatever thread transmits into this
  // driver) when a frame is queued for it, so an owner sleeping until next_deadline() can
  // wake up early. It must be cheap and must not call back into the driver.
  virtual void set_wakeup(std::function<void()> /*wake*/) {}

 protected:
  std::uint64_t tx_dropped_ = 0;
};

}  // namespace tapir
