// A small network of stacks joined by memory links, run on one virtual clock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "drivers/memory_link.hpp"
#include "stack/stack.hpp"

namespace tapir::test {

class Network {
 public:
  // Adds a stack with one interface attached to `port`; returns its index.
  std::size_t add_host(const std::string& cidr, const std::string& mac,
                       std::unique_ptr<Driver> port, StackConfig config = {});
  Stack& host(std::size_t index) { return *hosts_.at(index).stack; }

  // Moves the clock forward to `until`, stopping at every stack timer and link arrival on
  // the way, delivering frames as they arrive.
  void run_until(Instant until);
  void run_for(Duration d) { run_until(now_ + d); }
  // Moves the clock to the next stack timer or link arrival and handles it, if one is due by
  // `until`; otherwise to `until`. False when nothing was due by then. A test that acts after
  // every event (an application reading as soon as data arrives) calls it in a loop.
  bool run_next(Instant until);
  Instant now() const { return now_; }

 private:
  struct HostEntry {
    std::unique_ptr<Stack> stack;
    std::unique_ptr<Driver> port;
  };
  std::optional<Instant> next_event() const;
  void step(Instant at);

  std::vector<HostEntry> hosts_;
  Instant now_ = Instant::from_micros(1'000'000);
};

}  // namespace tapir::test
