// A small network of stacks joined by memory links, run on one virtual clock.
#include "support/network.hpp"

namespace tapir::test {

std::size_t Network::add_host(const std::string& cidr, const std::string& mac,
                              std::unique_ptr<Driver> port, StackConfig config) {
  auto stack = std::make_unique<Stack>(config);
  Driver* driver = port.get();
  stack->add_netif(
      NetifConfig{driver->name(), *MacAddress::parse(mac), 1500, Ipv4Cidr::parse(cidr)},
      [this, driver](std::span<const std::uint8_t> frame) { driver->transmit(now_, frame); }, now_);
  hosts_.push_back(HostEntry{std::move(stack), std::move(port)});
  return hosts_.size() - 1;
}

std::optional<Instant> Network::next_event() const {
  std::optional<Instant> next;
  auto consider = [&next](std::optional<Instant> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& h : hosts_) {
    consider(h.stack->next_deadline());
    consider(h.port->next_deadline());
  }
  return next;
}

void Network::step(Instant at) {
  now_ = at;
  for (auto& h : hosts_) {
    Stack& stack = *h.stack;
    h.port->receive(
        now_,
        [&stack, this](std::span<const std::uint8_t> frame) { stack.receive(0, frame, now_); },
        1024);
    stack.advance(now_);
  }
}

bool Network::run_next(Instant until) {
  const auto next = next_event();
  if (!next || *next > until) {
    step(std::max(until, now_));
    return false;
  }
  step(std::max(*next, now_));
  return true;
}

void Network::run_until(Instant until) {
  // Bounded: a link that keeps a frame in flight forever still ends at `until`.
  step(now_);
  for (int guard = 0; guard < 10'000'000; ++guard) {
    auto next = next_event();
    if (!next || *next > until) break;
    step(std::max(*next, now_));
  }
  now_ = until;
  step(now_);
}

}  // namespace tapir::test
