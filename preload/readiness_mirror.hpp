// The readiness mirror: each tapir socket of the process is backed by a kernel eventfd (the
// descriptor the program holds), kept readable exactly while the tapir socket has an event
// that someone waits for. Kernel poll, select and epoll sleep on the eventfd; this library's
// poll, select and epoll then ask tapir what is really ready. docs/PRELOAD.md tells the story.
#pragma once

#include <poll.h>

#include <array>
#include <cstdint>
#include <vector>

namespace tapir::sock {
class Api;
}

namespace tapir::preload {

class ReadinessMirror {
 public:
  // Everything below runs under the Host lock (inside with_stack(), or from the Host's change
  // hook), so the mirror and the stack never disagree for long.

  // Tapir socket `tapir_fd` is new; `signal_fd` is this library's own descriptor of its
  // eventfd (the program may close its descriptors at any time; this one stays ours).
  void add(int tapir_fd, int signal_fd);
  // The socket is going: returns its signal descriptor for the caller to close (-1 if none).
  int remove(int tapir_fd);

  // A waiter's interest: poll()/select() for the length of the call, an epoll registration for
  // as long as it exists. POLLERR and POLLHUP are always of interest, as poll(2) reports them
  // unasked. watch() brings the eventfd up to date at once, so a kernel wait that starts now
  // returns at once if the socket is ready already.
  void watch(sock::Api& api, int tapir_fd, short events);
  void unwatch(int tapir_fd, short events);

  // The Host's change hook: brings every watched socket's eventfd up to date. Its cost is one
  // poll_events() per watched socket; sockets nobody waits for are skipped.
  void refresh(sock::Api& api);

 private:
  struct Entry {
    int signal_fd = -1;
    // How many waiters want each event bit (indexed by bit number of POLLIN, POLLOUT, ...).
    std::array<std::uint16_t, 16> wanted{};
    short interest = 0;      // the bits some waiter wants
    short last = 0;          // what poll_events() said at the last refresh
    bool signalled = false;  // the eventfd is readable
  };

  void refresh(sock::Api& api, int tapir_fd, Entry& e);
  Entry* find(int tapir_fd);

  std::vector<Entry> entries_;  // by tapir socket number
  int watched_ = 0;             // entries with a non-zero interest
};

}  // namespace tapir::preload
