// What the call wrappers share: the error of a socket inherited across fork(), and Linux's
// SIGPIPE for a write to a stream that cannot take it.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>

namespace tapir::preload {

// A call on a tapir socket inherited from the parent across fork() (docs/PRELOAD.md).
inline int orphan_error() {
  errno = ENETDOWN;
  return -1;
}

// tapir never raises SIGPIPE; Linux does, for EPIPE from a write, send, sendto or sendmsg
// without MSG_NOSIGNAL (to the calling thread, socket(7)). Programs that ignore it, or pass
// MSG_NOSIGNAL, see only the EPIPE.
inline ssize_t with_sigpipe(ssize_t result, int flags) {
  if (result < 0 && errno == EPIPE && !(flags & MSG_NOSIGNAL)) {
    const int error = errno;
    pthread_kill(pthread_self(), SIGPIPE);
    errno = error;
  }
  return result;
}

}  // namespace tapir::preload
