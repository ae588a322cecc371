// MemoryLink and MemorySwitch: in-memory Ethernet links between stacks for deterministic tests.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "drivers/driver.hpp"
#include "drivers/fault_model.hpp"

namespace tapir {

class MemoryFabric;

// One end of a memory link or one switch port. No system calls and no clock of its own: a
// frame transmitted at `now` is delivered by receive(t) once t >= its arrival time
// (now + delay + jitter, per LinkConfig, after its turn at the bottleneck if the link has a
// rate), so a test drives everything on a virtual clock.
// fd() is -1; next_deadline() says when the next frame arrives. Ports may be used from
// different threads (two Hosts in one process): the fabric locks around its queues.
class MemoryPort final : public Driver {
 public:
  MemoryPort(std::shared_ptr<MemoryFabric> fabric, std::size_t index, std::string name);
  ~MemoryPort() override;
  MemoryPort(const MemoryPort&) = delete;
  MemoryPort& operator=(const MemoryPort&) = delete;

  int fd() const override { return -1; }
  std::size_t receive(Instant now, const FrameHandler& on_frame, std::size_t budget) override;
  void transmit(Instant now, std::span<const std::uint8_t> frame) override;
  std::optional<Instant> next_deadline() const override;
  std::string name() const override { return name_; }
  void set_wakeup(std::function<void()> wake) override;

  // What the link did to frames travelling toward this port.
  FaultStats inbound_faults() const;
  // Frames waiting to arrive here.
  std::size_t pending() const;

 private:
  std::shared_ptr<MemoryFabric> fabric_;
  std::size_t index_;
  std::string name_;
};

// A point-to-point cable. Each direction has its own FaultModel (seeded from config.seed and
// the direction), so one direction's traffic does not change the other's fate.
class MemoryLink {
 public:
  static std::pair<std::unique_ptr<MemoryPort>, std::unique_ptr<MemoryPort>> pair(
      const LinkConfig& config = {}, std::string name_a = "mem0", std::string name_b = "mem1");
};

// A learning switch (IEEE 802.1D in miniature): it learns each source MAC's port, sends a
// frame for a known unicast MAC to that port only, and floods broadcast, multicast and unknown
// destinations to every other port. Each port's cable toward its station has its own
// FaultModel. Entries do not age: stations in a test do not move.
class MemorySwitch {
 public:
  explicit MemorySwitch(std::size_t ports, const LinkConfig& config = {},
                        const std::string& name = "sw");
  // The driver of port `index` ("sw.0", "sw.1", ...); each port can be taken once.
  std::unique_ptr<MemoryPort> take_port(std::size_t index);
  std::size_t size() const;
  // The port a MAC was learned on.
  std::optional<std::size_t> port_of(const MacAddress& mac) const;

 private:
  std::shared_ptr<MemoryFabric> fabric_;
  std::string name_;
  std::vector<bool> taken_;
};

}  // namespace tapir
