// poll(2) over any mixture of tapir and kernel descriptors: the kernel waits on every
// descriptor (a tapir socket's eventfd for EPOLLIN, which the readiness mirror raises while the
// socket has what the call asks for), then tapir says what its sockets really have.
#pragma once

#include <poll.h>
#include <signal.h>
#include <time.h>

#include <chrono>
#include <optional>

namespace tapir::preload {

using Clock = std::chrono::steady_clock;
using Deadline = std::optional<Clock::time_point>;  // none: wait for ever

Deadline deadline_after_ms(int timeout_ms);        // poll's: negative is for ever
Deadline deadline_after(const timespec* timeout);  // ppoll's and pselect's: NULL is for ever
// What is left of `deadline` as a timespec for the kernel (nullptr for ever, in `storage`).
const timespec* time_left(const Deadline& deadline, timespec& storage);
// ... as milliseconds, rounded up (epoll_wait's and poll's unit).
int milliseconds_left(const Deadline& deadline);
bool passed(const Deadline& deadline);

// Whether any of the entries is a tapir socket (else the kernel's poll is all there is to it).
bool any_tapir(const pollfd* fds, nfds_t count);

// poll(2) semantics, errno included; `sigmask` as ppoll's (nullptr: unchanged). Returns when an
// entry has events, the deadline passes (0) or a signal interrupts the wait (-1, EINTR).
int mixed_poll(pollfd* fds, nfds_t count, const Deadline& deadline, const sigset_t* sigmask);

}  // namespace tapir::preload
