// PcapRecorder: a decorator that writes every frame a driver receives or sends to a pcap file.
#pragma once

#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "drivers/driver.hpp"
#include "stack/core/pcap.hpp"

namespace tapir {

// One capture file, shared by the recorders of all of a host's interfaces (like
// `tcpdump -i any`, without the interface column: classic pcap has one link type and no
// interface field). Thread-safe, so stacks on different threads may share it.
class PcapFile {
 public:
  // `utc_offset` turns the monotonic Instants the stack runs on into UTC record stamps
  // (CLOCK_REALTIME - CLOCK_MONOTONIC at start). Throws std::system_error if `path` cannot
  // be written.
  PcapFile(const std::string& path, Duration utc_offset);
  void write(Instant now, std::span<const std::uint8_t> frame);
  // Pushes buffered records to the file, so a reader following it (wireshark -k) sees them.
  void flush();

 private:
  std::mutex mutex_;
  std::ofstream out_;
  PcapWriter writer_;
  Duration utc_offset_;
  bool dirty_ = false;
};

class PcapRecorder final : public Driver {
 public:
  PcapRecorder(std::unique_ptr<Driver> inner, std::shared_ptr<PcapFile> file);

  int fd() const override { return inner_->fd(); }
  // Records what arrived, then flushes once per call (one write per wake-up, not per frame).
  std::size_t receive(Instant now, const FrameHandler& on_frame, std::size_t budget) override;
  // Records every frame tapir sends, including ones the inner driver then drops: the capture
  // shows what the stack did, tx_dropped() what the device did.
  void transmit(Instant now, std::span<const std::uint8_t> frame) override;
  std::optional<Instant> next_deadline() const override { return inner_->next_deadline(); }
  std::optional<MacAddress> hardware_address() const override { return inner_->hardware_address(); }
  std::string name() const override { return inner_->name(); }
  bool gone() const override { return inner_->gone(); }
  std::uint64_t tx_dropped() const override { return inner_->tx_dropped(); }
  void for_each_counter(const CounterFn& f) const override { inner_->for_each_counter(f); }
  void set_wakeup(std::function<void()> wake) override { inner_->set_wakeup(std::move(wake)); }

  Driver& inner() { return *inner_; }

 private:
  std::unique_ptr<Driver> inner_;
  std::shared_ptr<PcapFile> file_;
};

}  // namespace tapir
