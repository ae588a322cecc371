// FaultInjector: a decorator that makes any driver lossy, duplicating, reordering and slow.
#pragma once

#include <memory>

#include "drivers/delay_line.hpp"
#include "drivers/driver.hpp"
#include "drivers/fault_model.hpp"

namespace tapir {

// Frames received from the inner driver go through the `rx` model, frames transmitted through
// the `tx` model; each direction has its own seed. Delayed frames wait in a DelayLine and
// leave from receive() (both directions: an owner calls receive() on every wake-up, and
// next_deadline() includes the held frames), so no thread or timer of its own is needed.
class FaultInjector final : public Driver {
 public:
  FaultInjector(std::unique_ptr<Driver> inner, const LinkConfig& rx, const LinkConfig& tx);

  int fd() const override { return inner_->fd(); }
  std::size_t receive(Instant now, const FrameHandler& on_frame, std::size_t budget) override;
  void transmit(Instant now, std::span<const std::uint8_t> frame) override;
  std::optional<Instant> next_deadline() const override;
  std::optional<MacAddress> hardware_address() const override { return inner_->hardware_address(); }
  std::string name() const override { return inner_->name(); }
  bool gone() const override { return inner_->gone(); }
  std::uint64_t tx_dropped() const override { return inner_->tx_dropped(); }
  void for_each_counter(const CounterFn& f) const override { inner_->for_each_counter(f); }
  void set_wakeup(std::function<void()> wake) override { inner_->set_wakeup(std::move(wake)); }

  const FaultStats& rx_faults() const { return rx_model_.stats(); }
  const FaultStats& tx_faults() const { return tx_model_.stats(); }
  Driver& inner() { return *inner_; }

 private:
  void release_tx(Instant now);

  std::unique_ptr<Driver> inner_;
  FaultModel rx_model_;
  FaultModel tx_model_;
  DelayLine rx_held_;
  DelayLine tx_held_;
};

}  // namespace tapir
