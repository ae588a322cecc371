// Descriptors of tapir sockets: made, copied and released.
#include "preload/descriptors.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include <cerrno>

#include <tapir/socket.hpp>

#include "preload/epoll_registry.hpp"
#include "preload/fd_table.hpp"
#include "preload/process_stack.hpp"
#include "preload/real_calls.hpp"
#include "stack/socket/socket.hpp"
#include "stack/stack.hpp"

namespace tapir::preload {

namespace {

// Where this library's own descriptor of each eventfd goes: above the numbers a program
// usually uses, so that the program's descriptors keep the numbers they would have on Linux
// (socket() after socket() gives 3, 4, 5, ...).
int signal_descriptor_base() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= 2048) return 1024;
  return static_cast<int>(limit.rlim_cur / 2);
}

// The 4-tuple of `tapir_fd`'s TCP connection, if it has one.
std::optional<tcp::FourTuple> connection_of(Stack& stack, int tapir_fd) {
  const sock::Socket* s = stack.sockets().find(tapir_fd);
  if (!s || s->kind != sock::Kind::tcp) return std::nullopt;
  const tcp::Connection* c = static_cast<const sock::StreamSocket*>(s)->endpoint.connection;
  if (!c) return std::nullopt;
  return c->tuple();
}

}  // namespace

int adopt_socket(runtime::Host& host, int tapir_fd, bool close_on_exec) {
  auto fail = [tapir_fd](int error) {
    tapir::close(tapir_fd);
    errno = error;
    return -1;
  };
  const int fd = ::eventfd(0, EFD_NONBLOCK | (close_on_exec ? EFD_CLOEXEC : 0));
  if (fd < 0) return fail(errno);
  if (fd >= FdTable::kLimit) {
    real().close(fd);
    return fail(EMFILE);
  }
  static const int base = signal_descriptor_base();
  int signal = real().fcntl(fd, F_DUPFD_CLOEXEC, base);
  if (signal < 0) signal = real().fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (signal < 0) {
    const int error = errno;
    real().close(fd);
    return fail(error);
  }
  host.with_stack([&](Stack&) { process_stack().mirror().add(tapir_fd, signal); });
  FdTable& table = fd_table();
  std::lock_guard lock(table.mutex());
  table.bind(fd, tapir_fd);
  return fd;
}

int release_descriptor(int fd, bool close_kernel) {
  FdTable& table = fd_table();
  int tapir_fd = kKernel;
  int remaining = 0;
  {
    std::lock_guard lock(table.mutex());
    tapir_fd = table.lookup(fd);
    remaining = table.unbind(fd);
  }
  int result = 0;
  if (tapir_fd >= 0 && remaining == 0) {
    runtime::Host* host = process_stack().started();
    epoll_registry().forget_socket(tapir_fd);
    int signal = -1;
    if (host) {
      host->with_stack([&](Stack& stack) {
        if (auto tuple = connection_of(stack, tapir_fd)) process_stack().closing(stack, *tuple);
        signal = process_stack().mirror().remove(tapir_fd);
      });
    }
    result = tapir::close(tapir_fd);
    const int error = errno;
    if (signal >= 0) real().close(signal);
    errno = error;
  }
  if (close_kernel) {
    const int error = errno;
    real().close(fd);
    errno = error;
  }
  return result;
}

void descriptor_copied(int fd, int copy) {
  FdTable& table = fd_table();
  std::lock_guard lock(table.mutex());
  const int tapir_fd = table.lookup(fd);
  if (tapir_fd == kKernel) return;
  if (table.lookup(copy) != kKernel) table.unbind(copy);  // the caller released it already
  table.bind(copy, tapir_fd);
}

}  // namespace tapir::preload
