// socket, accept and the calls that set a socket up or ask about it: AF_INET goes to tapir,
// every other family stays the kernel's.
#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>

#include <tapir/socket.hpp>

#include "preload/call_results.hpp"
#include "preload/descriptors.hpp"
#include "preload/fd_table.hpp"
#include "preload/process_stack.hpp"
#include "preload/real_calls.hpp"

using namespace tapir::preload;

namespace {

// The accepted socket of tapir socket `tapir_fd`, as accept4(2) with `flags`.
int accept_on(int tapir_fd, sockaddr* addr, socklen_t* len, int flags) {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
    errno = EINVAL;
    return -1;
  }
  tapir::runtime::Host* host = process_stack().started();
  if (!host) {
    errno = EBADF;
    return -1;
  }
  InsideStack inside;
  const int accepted = tapir::accept(tapir_fd, addr, len);
  if (accepted < 0) return -1;
  // Linux's accepted sockets do not inherit O_NONBLOCK from the listener (accept(2), NOTES).
  tapir::fcntl(accepted, F_SETFL, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
  return adopt_socket(*host, accepted, (flags & SOCK_CLOEXEC) != 0);
}

}  // namespace

extern "C" {

int socket(int domain, int type, int protocol) {
  if (domain != AF_INET) return real().socket(domain, type, protocol);
  InsideStack inside;
  tapir::runtime::Host* host = process_stack().host();
  if (!host) return -1;  // ENETDOWN: there is no stack to make it in
  const int tapir_fd = tapir::socket(domain, type & ~SOCK_CLOEXEC, protocol);
  if (tapir_fd < 0) return -1;
  return adopt_socket(*host, tapir_fd, (type & SOCK_CLOEXEC) != 0);
}

int bind(int fd, const sockaddr* addr, socklen_t len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().bind(fd, addr, len);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::bind(t, addr, len);
}

int listen(int fd, int backlog) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().listen(fd, backlog);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::listen(t, backlog);
}

int accept(int fd, sockaddr* addr, socklen_t* len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().accept(fd, addr, len);
  if (t == kOrphan) return orphan_error();
  return accept_on(t, addr, len, 0);
}

int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().accept4(fd, addr, len, flags);
  if (t == kOrphan) return orphan_error();
  return accept_on(t, addr, len, flags);
}

int connect(int fd, const sockaddr* addr, socklen_t len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().connect(fd, addr, len);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::connect(t, addr, len);
}

int shutdown(int fd, int how) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().shutdown(fd, how);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::shutdown(t, how);
}

int getsockname(int fd, sockaddr* addr, socklen_t* len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().getsockname(fd, addr, len);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::getsockname(t, addr, len);
}

int getpeername(int fd, sockaddr* addr, socklen_t* len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().getpeername(fd, addr, len);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::getpeername(t, addr, len);
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().setsockopt(fd, level, name, value, len);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::setsockopt(t, level, name, value, len);
}

int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().getsockopt(fd, level, name, value, len);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::getsockopt(t, level, name, value, len);
}

}  // extern "C"
