// tapir's Host as an app sees it: one stack, its interfaces and the event-loop thread that runs
// them, built from the common flags; the stack itself stays inside (the socket calls reach it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace tapir {

class Options;

namespace runtime {
class Host;  // runtime/host.hpp: the stack, the drivers and the loop behind a Host
}

// What the ready line and a person need to know about one interface.
struct InterfaceInfo {
  std::string name;                    // "tap0"
  std::optional<std::string> address;  // "10.0.0.2/24"; none: the interface only forwards
  std::string mac;                     // "02:00:0a:00:00:02"
  std::uint32_t mtu = 0;
};

class Host {
 public:
  // Everything from the common flags: opens each --tap/--packet (wrapped in a pcap recorder
  // with --pcap, then in a fault injector with --fault), adds it with its address, MAC and MTU,
  // sets --gw and --route, sends --trace lines to stderr. Throws std::system_error when a device
  // cannot be opened.
  explicit Host(const Options& options);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Starts the event-loop thread. Block the signals the app waits for before calling it
  // (block_stop_signals(), or start_host() which does both): the thread inherits the caller's
  // signal mask. The first Host started becomes the one the socket calls use
  // (tapir::current_host()).
  void start();
  // Stops and joins the loop thread; safe to call twice, and from the destructor. Blocked
  // socket calls return ENETDOWN; the Host stops being current_host(). App threads must be out
  // of every socket call before the Host is destroyed.
  void stop();
  bool running() const;
  // Why the loop stopped on its own (a device went away, poll failed); nullopt while healthy.
  std::optional<std::string> failure() const;

  // "tapir counters" then every non-zero counter as "name value", one per line, then each
  // interface's driver drops ("tap0.txDropped 3") if any, then with --fault what the injector
  // did to each interface's frames ("tap0.faultRxLost 12"; Rx is towards tapir).
  void print_stats(std::ostream& out);
  // In the order they were added: packet sockets number them 1, 2, ... (sll_ifindex).
  std::vector<InterfaceInfo> interfaces();

  // What the socket calls and tests drive (runtime/host.hpp); of no use to an app.
  runtime::Host& runtime();

 private:
  std::unique_ptr<runtime::Host> runtime_;
};

}  // namespace tapir
