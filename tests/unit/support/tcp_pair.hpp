// Two stacks joined by a memory link with TCP sockets on them: the fixture of the TCP tests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "drivers/memory_link.hpp"
#include "stack/stack.hpp"
#include "support/network.hpp"

namespace tapir::test {

// Host A is 10.0.0.1 (the client, usually), host B 10.0.0.2 (the server).
class TcpPair {
 public:
  explicit TcpPair(const LinkConfig& link = {}, StackConfig a_config = {},
                   StackConfig b_config = {});

  Stack& a() { return net_.host(a_); }
  Stack& b() { return net_.host(b_); }
  sock::Api& api_a() { return a().sockets(); }
  sock::Api& api_b() { return b().sockets(); }
  Network& net() { return net_; }
  MemoryPort& port_a() { return *port_a_; }
  MemoryPort& port_b() { return *port_b_; }

  // A non-blocking TCP socket on `stack` listening on `port`.
  int listen(Stack& stack, std::uint16_t port, int backlog = 16);
  // A non-blocking TCP socket on `stack` connecting to addr:port (connect said EINPROGRESS).
  int connect(Stack& stack, const char* addr, std::uint16_t port);
  // Runs the network until `done()` holds, up to `limit` of virtual time; returns done().
  bool run_until(const std::function<bool()>& done, Duration limit = Duration{10'000'000});
  // Connects A to a listener on B's `port` and accepts: {client fd on A, server fd on B}.
  std::pair<int, int> establish(std::uint16_t port = 7);

  // Moves `data` from `from_fd` on `from` to `to_fd` on `to` (sending, receiving, running the
  // network) until everything has arrived or `limit` of virtual time passed; `close_after`
  // shuts the sender's side when all is queued. Returns what the receiver read.
  std::vector<std::uint8_t> transfer(Stack& from, int from_fd, Stack& to, int to_fd,
                                     const std::vector<std::uint8_t>& data,
                                     Duration limit = Duration{600'000'000},
                                     bool close_after = true);

 private:
  Network net_;
  std::size_t a_ = 0;
  std::size_t b_ = 0;
  MemoryPort* port_a_ = nullptr;
  MemoryPort* port_b_ = nullptr;
};

}  // namespace tapir::test
