// FaultInjector: passes frames through a FaultModel per direction, holding delayed ones.
#include "drivers/fault_injector.hpp"

#include <algorithm>

namespace tapir {

namespace {

std::optional<Instant> earliest(std::optional<Instant> a, std::optional<Instant> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// A frame due at `now` may skip the line (and its copy) only if nothing held is due before it.
bool nothing_due(const DelayLine& line, Instant now) {
  auto next = line.next_deadline();
  return !next || *next > now;
}

}  // namespace

FaultInjector::FaultInjector(std::unique_ptr<Driver> inner, const LinkConfig& rx,
                             const LinkConfig& tx)
    : inner_(std::move(inner)), rx_model_(rx), tx_model_(tx) {}

std::size_t FaultInjector::receive(Instant now, const FrameHandler& on_frame, std::size_t budget) {
  release_tx(now);
  // Frames held earlier arrive before anything the inner driver has now, keeping time order.
  std::size_t count = rx_held_.release(now, on_frame, budget);
  if (count >= budget) return count;

  // One pointer captured: the std::function stays in its small buffer (no allocation).
  struct Pass {
    FaultInjector* self;
    const FrameHandler* out;
    Instant now;
    std::size_t delivered;
  } pass{this, &on_frame, now, 0};
  const FrameHandler through = [p = &pass](std::span<const std::uint8_t> frame) {
    const FaultModel::Fate fate = p->self->rx_model_.decide(p->now, frame.size());
    for (std::size_t i = 0; i < fate.copies; ++i) {
      // Due now and nothing earlier waiting: hand it up without a copy.
      if (fate.arrival[i] <= p->now && nothing_due(p->self->rx_held_, p->now)) {
        ++p->delivered;
        (*p->out)(frame);
      } else {
        p->self->rx_held_.push(fate.arrival[i], frame);
      }
    }
  };
  inner_->receive(now, through, budget - count);
  count += pass.delivered;
  return count;
}

void FaultInjector::transmit(Instant now, std::span<const std::uint8_t> frame) {
  release_tx(now);
  const FaultModel::Fate fate = tx_model_.decide(now, frame.size());
  for (std::size_t i = 0; i < fate.copies; ++i) {
    if (fate.arrival[i] <= now && nothing_due(tx_held_, now)) {
      inner_->transmit(now, frame);
    } else {
      tx_held_.push(fate.arrival[i], frame);
    }
  }
}

void FaultInjector::release_tx(Instant now) {
  while (auto frame = tx_held_.pop_due(now)) {
    inner_->transmit(now, std::span<const std::uint8_t>(frame->data(), frame->size()));
    tx_held_.recycle(std::move(*frame));
  }
}

std::optional<Instant> FaultInjector::next_deadline() const {
  return earliest(inner_->next_deadline(),
                  earliest(rx_held_.next_deadline(), tx_held_.next_deadline()));
}

}  // namespace tapir
