// runtime::Host: one Stack, its drivers, and the one event-loop thread that owns them
// (DESIGN.md §2); the public tapir::Host (<tapir/host.hpp>) is a handle on one.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapir/host.hpp>

#include "drivers/driver.hpp"
#include "runtime/host_options.hpp"
#include "stack/stack.hpp"

namespace tapir {
class FaultInjector;
}

namespace tapir::runtime {

class ControlServer;

// What the ready line and a person need to know about one interface.
struct InterfaceInfo {
  std::string name;
  std::optional<Ipv4Cidr> address;
  MacAddress mac;
  std::uint32_t mtu = 0;
};

// The MAC tapir uses on a TAP when none is given: locally administered unicast (02:...,
// IEEE 802 "U/L" bit set, so it cannot clash with a vendor's), with the IPv4 address in the
// low four bytes (10.0.0.2 -> 02:00:0a:00:00:02) so it is stable across runs and differs from
// the Linux end of the TAP. Without an address, the name is hashed into those bytes instead.
MacAddress derived_mac(const std::optional<Ipv4Cidr>& address, std::string_view device);

// The current CLOCK_MONOTONIC time as the stack's Instant.
Instant monotonic_now();
// CLOCK_REALTIME - CLOCK_MONOTONIC: add it to a monotonic Instant to get UTC.
Duration utc_offset_now();

class Host {
 public:
  // A host with no interfaces yet: add them with add_interface(), then start().
  explicit Host(StackConfig config = {});
  // Everything from the common flags: opens each --tap/--packet (wrapped in a PcapRecorder
  // with --pcap, then in a FaultInjector with --fault), adds it with its address, MAC and
  // MTU, sets --gw and --route, sends --trace lines to stderr. Throws std::system_error when a
  // device cannot be opened.
  explicit Host(const HostOptions& options);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Adds an interface before start(): the stack's frames for it go to driver->transmit().
  NetifId add_interface(std::unique_ptr<Driver> driver, const NetifConfig& config);
  // Switches trace lines of `layer_mask` (Trace::bit) on; `sink` receives each line.
  void set_trace(std::uint32_t layer_mask, Trace::Sink sink);
  // Sets the traced layers to `layer_mask`, each line to stderr (tapirctl trace).
  void enable_trace(std::uint32_t layer_mask);

  // Called under the Host lock whenever what poll() would say of a socket may have changed:
  // after each loop pass that handled a frame or a timer, after each with_stack() call and after
  // each try of wait_until(). The LD_PRELOAD library (preload/) mirrors its sockets' readiness on
  // kernel descriptors from it, so kernel poll, select and epoll wake without a timer. It runs on
  // the loop thread and on app threads alike, so it must be short and must not call back into
  // the Host (the lock is held). Set it before start(); an empty function removes it.
  using ChangeHook = std::function<void(Stack&)>;
  void set_change_hook(ChangeHook hook);

  // Starts the event-loop thread. Block the signals the app waits for before calling it: the
  // thread inherits the caller's signal mask. The first Host started becomes the one the
  // socket API uses (tapir::current_host()).
  void start();
  // Stops and joins the loop thread; safe to call twice, and from the destructor. Calls
  // blocked in wait_until() return -ENETDOWN; the Host stops being current_host(). App
  // threads must be out of every socket call before the Host is destroyed.
  void stop();
  bool running() const { return thread_.joinable() && !finished_.load(); }
  // Why the loop stopped on its own (a device went away, poll failed); nullopt while healthy.
  std::optional<std::string> failure() const;

  // Runs f(stack) on the app's thread under the Host lock, with the stack's clock brought to
  // now, then wakes the loop if f scheduled something earlier than it sleeps for. For the
  // socket API and tests; never call it from inside a stack callback (the lock is held there).
  template <typename F>
  decltype(auto) with_stack(F&& f) {
    std::unique_lock lock(mutex_);
    catch_up();
    if constexpr (std::is_void_v<std::invoke_result_t<F&, Stack&>>) {
      f(*stack_);
      wake_if_sooner();
      state_changed();
    } else {
      decltype(auto) result = f(*stack_);
      wake_if_sooner();
      state_changed();
      return result;
    }
  }
  // Makes the loop recompute its deadline and poll the drivers now. Thread-safe, cheap.
  void wake();

  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  // How an app thread blocks (the socket API's blocking calls): runs try_once(stack) as
  // with_stack does until it returns something other than -EAGAIN, sleeping between tries on
  // a condition variable that the loop signals after each pass that handled frames or timers,
  // and that with_stack() signals after each call (another app thread may have queued,
  // closed or sent something). No polling interval: a try happens only after a change.
  // Returns -EAGAIN once `deadline` has passed, and -ENETDOWN when the loop is not running
  // (not started, stopped, or failed) rather than wait for frames that cannot come.
  template <typename F>
  auto wait_until(F&& try_once, Deadline deadline) -> std::invoke_result_t<F&, Stack&> {
    std::unique_lock lock(mutex_);
    for (;;) {
      catch_up();
      auto result = try_once(*stack_);
      wake_if_sooner();
      if (result != -EAGAIN) {
        state_changed();
        return result;
      }
      // Nothing this thread waits for, but catch_up() may have run timers that changed
      // another socket.
      run_change_hook();
      if (!serving_) return -ENETDOWN;
      if (deadline && std::chrono::steady_clock::now() >= *deadline) return result;
      ++waiters_;
      if (deadline) {
        changed_.wait_until(lock, *deadline);
      } else {
        changed_.wait(lock);
      }
      --waiters_;
    }
  }

  // Socket descriptors are small numbers that close() frees and socket() reuses at once, so
  // a call blocked on descriptor 3 could wake to find a new socket 3. The socket API counts
  // each descriptor's closes and a blocked call compares the count (EBADF if it moved).
  // Only under the Host lock: inside with_stack() or wait_until().
  std::uint64_t closes_of(int fd) const;
  void count_close(int fd);

  // "tapir counters" then every non-zero counter as "name value", one per line, then each
  // interface's driver drops ("tap0.txDropped 3") if any, then with --fault what the
  // injector did to each interface's frames ("tap0.faultRxLost 12"; Rx is towards tapir).
  void print_stats(std::ostream& out);
  std::vector<InterfaceInfo> interfaces();

  // The public Host that is a handle on this one, if any: what tapir::current_host() returns
  // while this one is current.
  tapir::Host* owner() const { return owner_; }
  void set_owner(tapir::Host* owner) { owner_ = owner; }

 private:
  struct Port {
    std::unique_ptr<Driver> driver;
    NetifId netif = 0;
    FrameHandler deliver;   // built once: frame -> stack_->receive(netif, frame, now_)
    bool readable = false;  // its fd polled readable (touched by the loop thread only)
  };

  void run();
  void drain_faults();
  bool serve(Instant now);
  std::optional<Instant> earliest_deadline() const;
  void catch_up();
  void wake_if_sooner();
  // Under mutex_: wakes the app threads in wait_until() so they try again.
  void notify_waiters() {
    if (waiters_ > 0) changed_.notify_all();
  }
  void run_change_hook() {
    if (change_hook_) change_hook_(*stack_);
  }
  // Under mutex_: a socket may have changed; tell the change hook, then the waiters.
  void state_changed() {
    run_change_hook();
    notify_waiters();
  }

  std::unique_ptr<Stack> stack_;
  std::vector<Port> ports_;
  mutable std::mutex mutex_;
  Instant now_;  // the time of the current wake-up; the transmit hooks stamp frames with it
  // When the loop will next wake by itself; with_stack() wakes it only for something sooner.
  std::optional<Instant> sleep_until_;
  int wake_fd_ = -1;  // eventfd
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
  std::optional<std::string> failure_;  // under mutex_
  // Blocking app threads (wait_until), all under mutex_.
  std::condition_variable changed_;
  int waiters_ = 0;
  bool serving_ = false;               // the loop runs and will signal changed_
  std::vector<std::uint64_t> closes_;  // per socket descriptor (closes_of)
  ChangeHook change_hook_;             // under mutex_
  // --fault: each interface's injector (owned by its Port's driver chain), for print_stats.
  std::vector<std::pair<std::string, const FaultInjector*>> faults_;
  Duration fault_latency_{0};  // the longest a --fault injector holds a frame
  tapir::Host* owner_ = nullptr;
  std::unique_ptr<ControlServer> control_;  // --name/--no-ctl; polled by run()
};

}  // namespace tapir::runtime
