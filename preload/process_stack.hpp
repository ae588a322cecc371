// The process's tapir stack: the common flags read from the environment when the library is
// loaded, the Host started on the first AF_INET socket, and what fork() and exit() do to it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "preload/readiness_mirror.hpp"
#include "runtime/host.hpp"
#include "runtime/host_options.hpp"
#include "stack/tcp/connection.hpp"

namespace tapir::preload {

class ProcessStack {
 public:
  // Reads the flags from the environment; on a bad one prints one line on stderr and ends the
  // process with status 2 before the program runs, as a tapir program does for a bad flag.
  void load();

  // The Host, started on first use (from whichever thread asks first); nullptr with errno
  // ENETDOWN when there is none: it could not start (the reason was printed once), or this
  // process is a child of the one whose stack it is (fork()).
  runtime::Host* host();
  // The Host if it has been started, else nullptr; never starts one.
  runtime::Host* started() const { return host_.load(std::memory_order_acquire); }

  // Under the Host lock.
  ReadinessMirror& mirror() { return mirror_; }
  // A TCP connection the program has closed: at exit the stack runs on (a few seconds at most)
  // until such connections have delivered their data and FIN, as Linux's would after the
  // process is gone.
  void closing(Stack& stack, const tcp::FourTuple& connection);

  // pthread_atfork(3) and atexit(3).
  void before_fork();
  void after_fork_in_parent();
  void after_fork_in_child();
  void at_exit();

 private:
  // Whether any connection closing() was told of still has data or a FIN to deliver; forgets
  // the ones that are done.
  bool still_sending(Stack& stack);

  std::unique_ptr<runtime::HostOptions> options_;
  std::atomic<runtime::Host*> host_{nullptr};
  std::mutex start_mutex_;
  bool start_failed_ = false;            // under start_mutex_
  std::atomic<bool> orphaned_{false};    // a child of the process that runs the stack
  ReadinessMirror mirror_;               // under the Host lock
  std::vector<tcp::FourTuple> closing_;  // under the Host lock
};

// The one per process (never destroyed: calls made during exit still reach it).
ProcessStack& process_stack();

// Marks the calling thread as inside a call to the stack. exit() from a signal handler that
// interrupted such a call must not wait for the Host (the thread may hold its lock); the exit
// handler then leaves the stack as it is.
class InsideStack {
 public:
  InsideStack() { ++depth_; }
  ~InsideStack() { --depth_; }
  InsideStack(const InsideStack&) = delete;
  InsideStack& operator=(const InsideStack&) = delete;
  static bool active() { return depth_ > 0; }

 private:
  static thread_local int depth_;
};

}  // namespace tapir::preload
