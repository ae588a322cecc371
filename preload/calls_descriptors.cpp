// close, dup, dup2, dup3, fcntl, ioctl and fstat on descriptors that may be tapir sockets.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include <tapir/socket.hpp>

#include "preload/call_results.hpp"
#include "preload/descriptors.hpp"
#include "preload/epoll_registry.hpp"
#include "preload/fd_table.hpp"
#include "preload/process_stack.hpp"
#include "preload/real_calls.hpp"

using namespace tapir::preload;

namespace {

// dup2() and dup3(): `copy` is about to be replaced by the kernel; if it names a tapir socket,
// that name goes first (and the socket with it, if it was the last).
int replace(int fd, int copy, int flags, bool is_dup3) {
  // Linux leaves `copy` alone when `fd` is not open (EBADF) or, for dup3, equal to it (EINVAL).
  if (is_dup3 && fd == copy) return real().dup3(fd, copy, flags);
  if (real().fcntl(fd, F_GETFD) < 0) return -1;
  if (fd == copy) return copy;
  if (fd_table().lookup(copy) != kKernel) release_descriptor(copy, false);
  const int result = is_dup3 ? real().dup3(fd, copy, flags) : real().dup2(fd, copy);
  if (result >= 0) descriptor_copied(fd, result);
  return result;
}

// fcntl(2) on tapir socket `t` (program descriptor `fd`): the file status flags are the
// socket's (O_NONBLOCK), the descriptor flags the kernel's (FD_CLOEXEC).
int socket_fcntl(int fd, int t, int cmd, unsigned long arg) {
  switch (cmd) {
    case F_GETFL:
    case F_SETFL: {
      InsideStack inside;
      return tapir::fcntl(t, cmd, static_cast<int>(arg));
    }
    case F_GETFD:
    case F_SETFD:
      return real().fcntl(fd, cmd, static_cast<int>(arg));
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const int copy = real().fcntl(fd, cmd, static_cast<int>(arg));
      if (copy >= 0) descriptor_copied(fd, copy);
      return copy;
    }
    default:
      // Owners and signals (F_SETOWN, F_SETSIG), leases, locks: tapir sends no SIGIO or SIGURG.
      errno = EINVAL;
      return -1;
  }
}

// ioctl(2) on tapir socket `t`: FIONREAD (SIOCINQ) and FIONBIO; FIOCLEX and FIONCLEX are the
// kernel descriptor's flag. Anything else is ENOTTY, Linux's answer for a request a socket does
// not know (interface requests such as SIOCGIFADDR ask the kernel's interfaces, not tapir's).
int socket_ioctl(int fd, int t, unsigned long request, void* arg) {
  InsideStack inside;
  // The argument points at an int, but not necessarily an aligned one (a byte buffer of a
  // scripting language): it is copied, never dereferenced as an int.
  switch (request) {
    case FIONREAD: {
      if (!arg) {
        errno = EFAULT;
        return -1;
      }
      int n = 0;
      const int result = tapir::ioctl(t, request, &n);
      if (result == 0) std::memcpy(arg, &n, sizeof n);
      return result;
    }
    case FIONBIO: {
      if (!arg) {
        errno = EFAULT;
        return -1;
      }
      const int flags = tapir::fcntl(t, F_GETFL);
      if (flags < 0) return -1;
      int value = 0;
      std::memcpy(&value, arg, sizeof value);
      const bool on = value != 0;
      return tapir::fcntl(t, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
    }
    case FIOCLEX:
    case FIONCLEX:
      return real().ioctl(fd, request);
    default:
      errno = ENOTTY;
      return -1;
  }
}

int stat_socket(int fd, struct stat* st) {
  // The eventfd's own answer, but a socket's file type: programs test S_ISSOCK.
  const int result = real().fstat(fd, st);
  if (result == 0) st->st_mode = (st->st_mode & ~S_IFMT) | S_IFSOCK;
  return result;
}

}  // namespace

extern "C" {

int close(int fd) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) {
    epoll_registry().forget_set(fd);  // if it was an epoll set with tapir sockets in it
    return real().close(fd);
  }
  InsideStack inside;
  return release_descriptor(fd, true);
}

int dup(int fd) {
  const int copy = real().dup(fd);
  if (copy >= 0 && fd_table().lookup(fd) != kKernel) descriptor_copied(fd, copy);
  return copy;
}

int dup2(int fd, int copy) {
  if (!fd_table().any()) return real().dup2(fd, copy);
  InsideStack inside;
  return replace(fd, copy, 0, false);
}

int dup3(int fd, int copy, int flags) {
  if (!fd_table().any()) return real().dup3(fd, copy, flags);
  InsideStack inside;
  return replace(fd, copy, flags, true);
}

// The third argument is read as the widest thing any command passes (a pointer or a long),
// and handed on as the C library's own fcntl reads it.
int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  const unsigned long arg = va_arg(ap, unsigned long);
  va_end(ap);
  const int t = fd_table().lookup(fd);
  if (t < 0) return real().fcntl(fd, cmd, arg);  // kernel descriptors and orphans
  return socket_fcntl(fd, t, cmd, arg);
}

// glibc 2.28's name for fcntl with 64-bit locks; the same on 64-bit Linux.
int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  const unsigned long arg = va_arg(ap, unsigned long);
  va_end(ap);
  const int t = fd_table().lookup(fd);
  if (t < 0) return real().fcntl(fd, cmd, arg);
  return socket_fcntl(fd, t, cmd, arg);
}

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().ioctl(fd, request, arg);
  if (t == kOrphan) return orphan_error();
  return socket_ioctl(fd, t, request, arg);
}

int fstat(int fd, struct stat* st) {
  if (fd_table().lookup(fd) < 0) return real().fstat(fd, st);
  return stat_socket(fd, st);
}

int fstat64(int fd, struct stat64* st) {
  // On 64-bit Linux struct stat64 is struct stat.
  return fstat(fd, reinterpret_cast<struct stat*>(st));
}

}  // extern "C"
