// The process's stack: started lazily, shut down at exit, left to the parent across fork().
#include "preload/process_stack.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>

#include <tapir/app.hpp>

#include "preload/descriptors.hpp"
#include "preload/environment_flags.hpp"
#include "preload/epoll_registry.hpp"
#include "preload/fd_table.hpp"
#include "preload/real_calls.hpp"
#include "stack/stack.hpp"

namespace tapir::preload {

thread_local int InsideStack::depth_ = 0;

namespace {

// How long exit() lets closed connections finish: long enough for a FIN and the last data to
// be acknowledged on any sane path, short enough that a dead peer does not hold the exit up.
constexpr auto kExitLinger = std::chrono::seconds(5);

void print_line(const std::string& line) {
  const std::string text = "tapir: " + line + "\n";
  (void)!real().write(2, text.data(), text.size());
}

bool delivering(tcp::State state) {
  switch (state) {
    case tcp::State::syn_sent:
    case tcp::State::syn_received:
    case tcp::State::established:
    case tcp::State::close_wait:
    case tcp::State::fin_wait_1:
    case tcp::State::closing:
    case tcp::State::last_ack:
      return true;
    default:  // FIN-WAIT-2, TIME-WAIT: our FIN is acknowledged; CLOSED; LISTEN
      return false;
  }
}

}  // namespace

void ProcessStack::load() {
  try {
    const std::vector<std::string> words = flag_words_from_environment();
    const std::vector<std::string_view> args(words.begin(), words.end());
    const Options options = OptionParser("tapir", "").parse(args);
    options_ = std::make_unique<runtime::HostOptions>(options.host());
  } catch (const OptionError& e) {
    print_line(std::string(e.what()) + " (from the TAPIR_* environment; docs/PRELOAD.md)");
    std::_Exit(2);
  }
}

runtime::Host* ProcessStack::host() {
  if (orphaned_.load(std::memory_order_relaxed)) {
    errno = ENETDOWN;  // the parent's Host: its thread is not in this process
    return nullptr;
  }
  if (runtime::Host* h = started()) return h;
  std::lock_guard lock(start_mutex_);
  if (runtime::Host* h = started()) return h;
  if (orphaned_.load() || start_failed_ || !options_) {
    errno = ENETDOWN;
    return nullptr;
  }
  // The loop thread takes no signal meant for the program: started with all of them blocked
  // (it inherits this thread's mask), a handler never runs on it, with the Host lock held.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  runtime::Host* h = nullptr;
  try {
    h = new runtime::Host(*options_);  // never deleted: app threads may be in calls at exit
    h->set_change_hook([this](Stack& stack) { mirror_.refresh(stack.sockets()); });
    h->start();
  } catch (const std::exception& e) {
    print_line(e.what());
    start_failed_ = true;
    h = nullptr;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (!h) {
    errno = ENETDOWN;
    return nullptr;
  }
  host_.store(h, std::memory_order_release);
  return h;
}

void ProcessStack::closing(Stack& stack, const tcp::FourTuple& connection) {
  still_sending(
      stack);  // forget those that are done, so that a long-lived server's list stays short
  closing_.push_back(connection);
}

bool ProcessStack::still_sending(Stack& stack) {
  std::erase_if(closing_, [&stack](const tcp::FourTuple& t) {
    const tcp::Connection* c = stack.tcp().find(t);
    return !c || !delivering(c->state());
  });
  return !closing_.empty();
}

// The library's own locks are held across fork() so that the child's copies are consistent and
// unlocked; the Host's lock is not (the child never takes it).
void ProcessStack::before_fork() {
  start_mutex_.lock();
  epoll_registry().mutex().lock();
  fd_table().mutex().lock();
}

void ProcessStack::after_fork_in_parent() {
  fd_table().mutex().unlock();
  epoll_registry().mutex().unlock();
  start_mutex_.unlock();
}

// The stack and its loop thread stay with the parent (threads do not survive fork()), so the
// child's copies of the parent's tapir sockets cannot work. Each becomes a closed socket as the
// kernel sees it (a UNIX socket whose peer is gone: end of file, EPIPE), so that a program that
// execs, or reads with a system call of its own, gets a clean end rather than an eventfd's
// counter; this library's calls on them fail with ENETDOWN, and close() works.
void ProcessStack::after_fork_in_child() {
  FdTable& table = fd_table();
  table.mutex().unlock();
  epoll_registry().mutex().unlock();
  start_mutex_.unlock();
  if (!started()) return;  // nothing started yet: the child may start a stack of its own
  // The Host's copy here has no loop thread and perhaps a lock held by a thread that is not
  // here: from now on nothing in this process touches it.
  orphaned_ = true;
  host_.store(nullptr, std::memory_order_release);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return;
  real().close(pair[1]);
  for (int fd : table.descriptors()) {
    if (table.lookup(fd) == kOrphan) continue;
    const int flags = real().fcntl(fd, F_GETFD);
    real().dup3(pair[0], fd, (flags >= 0 && (flags & FD_CLOEXEC)) ? O_CLOEXEC : 0);
    table.unbind(fd);
    table.bind(fd, kOrphan);
  }
  real().close(pair[0]);
}

// As the kernel at a process's exit: the sockets still open are closed, and their connections
// (and those closed before) get a few seconds to deliver what they hold; then the stack stops.
// The Host is not destroyed: a thread of the program may still be in a call.
void ProcessStack::at_exit() {
  runtime::Host* h = started();
  if (!h || orphaned_.load() || InsideStack::active()) return;
  InsideStack inside;
  for (int fd : fd_table().descriptors()) {
    if (fd_table().lookup(fd) >= 0) release_descriptor(fd, true);
  }
  h->wait_until([this](Stack& stack) { return still_sending(stack) ? -EAGAIN : 0; },
                std::chrono::steady_clock::now() + kExitLinger);
  h->stop();
  if (options_->stats) {
    std::ostringstream out;
    h->print_stats(out);  // on stderr: stdout may be the program's data
    const std::string text = out.str();
    (void)!real().write(2, text.data(), text.size());
  }
}

ProcessStack& process_stack() {
  static ProcessStack* process = new ProcessStack;  // never destroyed
  return *process;
}

namespace {

void prepare_fork() {
  process_stack().before_fork();
}
void parent_after_fork() {
  process_stack().after_fork_in_parent();
}
void child_after_fork() {
  process_stack().after_fork_in_child();
}
void exit_handler() {
  process_stack().at_exit();
}

// Runs when the library is loaded, before the program's main(): the flags are checked now, so a
// bad one stops the program before it starts; the Host waits for the first AF_INET socket.
// The exit handler registered here runs after those the program registers (atexit runs them
// in reverse), while the C++ library is still whole.
__attribute__((constructor)) void on_load() {
  process_stack().load();
  pthread_atfork(prepare_fork, parent_after_fork, child_after_fork);
  std::atexit(exit_handler);
}

}  // namespace

}  // namespace tapir::preload
