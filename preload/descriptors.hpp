// The program's descriptors of tapir sockets: an eventfd each, made when tapir makes the
// socket (socket(), accept()), shared by dup() and its kin, and the tapir socket closed with
// the last descriptor that names it, as a kernel socket's file is.
#pragma once

#include "runtime/host.hpp"

namespace tapir::preload {

// A descriptor for the new tapir socket `tapir_fd`: the kernel picks its number (the lowest
// free one, as for any descriptor), so tapir sockets, files and pipes never share a number.
// On failure the tapir socket is closed and -1 returned with errno set (EMFILE, ENFILE, ...).
int adopt_socket(runtime::Host& host, int tapir_fd, bool close_on_exec);

// `fd` names its tapir socket no more; with the last such descriptor the socket is closed
// (its epoll registrations and readiness mirror go first). `close_kernel`: also close the
// kernel descriptor (dup2() and dup3() replace it themselves). Returns what close() returns.
int release_descriptor(int fd, bool close_kernel);

// `copy` is a new kernel descriptor for what `fd` names (dup(), dup2(), dup3(), F_DUPFD).
void descriptor_copied(int fd, int copy);

}  // namespace tapir::preload
