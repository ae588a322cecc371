// Stop signals: one thread takes SIGINT, SIGTERM and SIGUSR1 with sigtimedwait(), and looks
// at the Host's loop once a second.
#include <pthread.h>
#include <signal.h>

#include <iostream>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace tapir {

namespace {

sigset_t stop_signal_set() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&signals, s);
  return signals;
}

}  // namespace

void block_stop_signals() {
  const sigset_t signals = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

StopSignals::StopSignals(Host& host, int fd) : thread_([this, &host, fd] { run(host, fd); }) {}

StopSignals::~StopSignals() {
  finished_ = true;
  pthread_kill(thread_.native_handle(), SIGTERM);  // ends its sigtimedwait() now
  thread_.join();
}

void StopSignals::run(Host& host, int fd) {
  const sigset_t signals = stop_signal_set();
  const timespec second{1, 0};  // how often to look at host.failure()
  while (!finished_) {
    const int signal = sigtimedwait(&signals, nullptr, &second);
    if (finished_) break;
    if (signal == SIGUSR1) host.print_stats(std::cerr);
    if (stopped_) continue;
    if (signal != SIGINT && signal != SIGTERM) {
      failure_ = host.failure();
      if (!failure_) continue;
    }
    // Set before the shutdown: the call it wakes returns 0 and asks stopped() what that means.
    stopped_ = true;
    stopped_.notify_all();
    if (fd >= 0) tapir::shutdown(fd, SHUT_RD);
  }
}

}  // namespace tapir
