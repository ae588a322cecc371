// MemoryLink and MemorySwitch: a fabric of delay lines, one per port, fed through fault models.
#include "drivers/memory_link.hpp"

#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "drivers/delay_line.hpp"

namespace tapir {

// The shared state behind the ports of one cable or one switch.
class MemoryFabric {
 public:
  MemoryFabric(bool learning, std::size_t ports, const LinkConfig& config) : learning_(learning) {
    ports_.reserve(ports);
    for (std::size_t i = 0; i < ports; ++i) {
      LinkConfig port_config = config;
      // Independent, reproducible streams per port: the seed mixed with the port number.
      port_config.seed = config.seed ^ (0x9E3779B97F4A7C15ULL * (i + 1));
      ports_.push_back(std::make_unique<Port>(port_config));
    }
  }

  std::size_t size() const { return ports_.size(); }

  void carry(std::size_t from, Instant now, std::span<const std::uint8_t> frame) {
    std::lock_guard lock(mutex_);
    if (!learning_) {
      enqueue(1 - from, now, frame);
      return;
    }
    const MacAddress dst = MacAddress::from(frame.data());
    const MacAddress src = MacAddress::from(frame.data() + 6);
    // 802.1D §7.8: learn from the source of every frame (never from a group address).
    if (!src.is_multicast() && (learned_.size() < max_learned || learned_.contains(key(src)))) {
      learned_[key(src)] = from;
    }
    if (!dst.is_multicast()) {
      if (auto it = learned_.find(key(dst)); it != learned_.end()) {
        // A frame for a station on the port it came from is filtered, as a bridge does.
        if (it->second != from) enqueue(it->second, now, frame);
        return;
      }
    }
    for (std::size_t to = 0; to < ports_.size(); ++to) {
      if (to != from) enqueue(to, now, frame);
    }
  }

  std::size_t deliver(std::size_t to, Instant now, const FrameHandler& on_frame,
                      std::size_t budget) {
    std::unique_lock lock(mutex_);
    Port& port = *ports_[to];
    std::size_t count = 0;
    while (count < budget) {
      auto frame = port.inbox.pop_due(now);
      if (!frame) break;
      ++count;
      // Unlocked while the stack handles the frame: its answer goes back through carry().
      lock.unlock();
      on_frame(std::span<const std::uint8_t>(frame->data(), frame->size()));
      lock.lock();
      port.inbox.recycle(std::move(*frame));
    }
    return count;
  }

  std::optional<Instant> next_deadline(std::size_t port) const {
    std::lock_guard lock(mutex_);
    return ports_[port]->inbox.next_deadline();
  }
  void set_wakeup(std::size_t port, std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    ports_[port]->wake = std::move(wake);
  }
  void detach(std::size_t port) {
    std::lock_guard lock(mutex_);
    ports_[port]->attached = false;
    ports_[port]->wake = nullptr;
    ports_[port]->inbox = DelayLine{};
  }
  FaultStats stats(std::size_t port) const {
    std::lock_guard lock(mutex_);
    return ports_[port]->model.stats();
  }
  std::size_t pending(std::size_t port) const {
    std::lock_guard lock(mutex_);
    return ports_[port]->inbox.size();
  }
  std::optional<std::size_t> port_of(const MacAddress& mac) const {
    std::lock_guard lock(mutex_);
    if (auto it = learned_.find(key(mac)); it != learned_.end()) return it->second;
    return std::nullopt;
  }

 private:
  struct Port {
    explicit Port(const LinkConfig& config) : model(config) {}
    DelayLine inbox;
    FaultModel model;  // the cable toward this port's station
    std::function<void()> wake;
    bool attached = true;
  };
  // A switch's table is bounded so a test flooding random source MACs cannot grow memory;
  // once full, unknown stations are flooded to, as a real switch does.
  static constexpr std::size_t max_learned = 4096;

  static std::uint64_t key(const MacAddress& mac) {
    std::uint64_t k = 0;
    for (auto b : mac.bytes()) k = (k << 8) | b;
    return k;
  }

  // Called with mutex_ held.
  void enqueue(std::size_t to, Instant now, std::span<const std::uint8_t> frame) {
    Port& port = *ports_[to];
    if (!port.attached) return;
    const FaultModel::Fate fate = port.model.decide(now, frame.size());
    for (std::size_t i = 0; i < fate.copies; ++i) port.inbox.push(fate.arrival[i], frame);
    if (fate.copies > 0 && port.wake) port.wake();
  }

  mutable std::mutex mutex_;
  bool learning_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::unordered_map<std::uint64_t, std::size_t> learned_;
};

MemoryPort::MemoryPort(std::shared_ptr<MemoryFabric> fabric, std::size_t index, std::string name)
    : fabric_(std::move(fabric)), index_(index), name_(std::move(name)) {}

MemoryPort::~MemoryPort() {
  fabric_->detach(index_);
}

std::size_t MemoryPort::receive(Instant now, const FrameHandler& on_frame, std::size_t budget) {
  return fabric_->deliver(index_, now, on_frame, budget);
}

void MemoryPort::transmit(Instant now, std::span<const std::uint8_t> frame) {
  // An Ethernet header is the least a switch needs to read; anything shorter never leaves.
  if (frame.size() < 14 || frame.size() > max_frame_size) {
    ++tx_dropped_;
    return;
  }
  fabric_->carry(index_, now, frame);
}

std::optional<Instant> MemoryPort::next_deadline() const {
  return fabric_->next_deadline(index_);
}

void MemoryPort::set_wakeup(std::function<void()> wake) {
  fabric_->set_wakeup(index_, std::move(wake));
}

FaultStats MemoryPort::inbound_faults() const {
  return fabric_->stats(index_);
}

std::size_t MemoryPort::pending() const {
  return fabric_->pending(index_);
}

std::pair<std::unique_ptr<MemoryPort>, std::unique_ptr<MemoryPort>> MemoryLink::pair(
    const LinkConfig& config, std::string name_a, std::string name_b) {
  auto fabric = std::make_shared<MemoryFabric>(false, 2, config);
  return {std::make_unique<MemoryPort>(fabric, 0, std::move(name_a)),
          std::make_unique<MemoryPort>(fabric, 1, std::move(name_b))};
}

MemorySwitch::MemorySwitch(std::size_t ports, const LinkConfig& config, const std::string& name)
    : fabric_(std::make_shared<MemoryFabric>(true, ports, config)),
      name_(name),
      taken_(ports, false) {}

std::unique_ptr<MemoryPort> MemorySwitch::take_port(std::size_t index) {
  if (index >= taken_.size())
    throw std::out_of_range("MemorySwitch: no port " + std::to_string(index));
  if (taken_[index])
    throw std::logic_error("MemorySwitch: port " + std::to_string(index) + " already taken");
  taken_[index] = true;
  return std::make_unique<MemoryPort>(fabric_, index, name_ + "." + std::to_string(index));
}

std::size_t MemorySwitch::size() const {
  return fabric_->size();
}

std::optional<std::size_t> MemorySwitch::port_of(const MacAddress& mac) const {
  return fabric_->port_of(mac);
}

}  // namespace tapir
