// Stop signals: what ends a sample app (SIGINT, SIGTERM, or its Host's loop failing) and
// SIGUSR1, which prints the Host's counters.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "runtime/options.hpp"

namespace tapir {

class Host;

// Blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread. Call it in main() before the Host
// starts: threads inherit the mask (pthread_sigmask(3)), so a signal waits, pending, for the
// StopSignals thread to take it, instead of killing the process in the middle of a line.
void block_stop_signals();

// What every sample app's main() does first: block the stop signals, build the Host from the
// common flags and start it. When a device cannot be opened it prints "program: why" on
// stderr and returns nullptr (the app picks its exit status).
std::unique_ptr<Host> start_host(std::string_view program, const Options& options);

// A thread that takes the signals blocked above. SIGINT or SIGTERM stops the app, and so does
// a Host loop that ended on its own (its TAP was deleted, say); SIGUSR1 prints the counters to
// stderr. Stopping shuts `fd` (if not -1) down for reading, which wakes a recvfrom() or poll()
// blocked on it: they return 0 / POLLIN, as on Linux (shutdown(2)).
class StopSignals {
 public:
  explicit StopSignals(Host& host, int fd = -1);
  ~StopSignals();  // ends the thread; the signals stay blocked
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool stopped() const { return stopped_; }
  void wait() const { stopped_.wait(false); }
  // Once stopped(): why the Host's loop ended on its own, if it did.
  std::optional<std::string> failure() const {
    return stopped_ ? failure_ : std::optional<std::string>();
  }

 private:
  void run(Host& host, int fd);

  std::atomic<bool> finished_{false};
  std::atomic<bool> stopped_{false};
  std::optional<std::string> failure_;  // written only before stopped_ is set
  std::thread thread_;                  // last: it starts once the members above exist
};

}  // namespace tapir
