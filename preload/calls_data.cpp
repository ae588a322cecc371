// The calls that move data: send and recv in all their forms, read and write, readv and
// writev, sendfile from a file to a tapir socket. Blocking ones block in the Host as
// tapir::recv() and friends do (runtime/socket_api.cpp), honouring O_NONBLOCK, MSG_DONTWAIT,
// SO_RCVTIMEO and SO_SNDTIMEO.
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include <tapir/socket.hpp>

#include "preload/call_results.hpp"
#include "preload/fd_table.hpp"
#include "preload/mixed_poll.hpp"
#include "preload/process_stack.hpp"
#include "preload/real_calls.hpp"

using namespace tapir::preload;

extern "C" [[noreturn]] void __chk_fail();

namespace {

ssize_t send_on(int t, const void* buf, size_t len, int flags, const sockaddr* to,
                socklen_t to_len) {
  InsideStack inside;
  return with_sigpipe(tapir::sendto(t, buf, len, flags, to, to_len), flags);
}

ssize_t recv_on(int t, void* buf, size_t len, int flags, sockaddr* from, socklen_t* from_len) {
  InsideStack inside;
  return tapir::recvfrom(t, buf, len, flags, from, from_len);
}

msghdr message_of(const iovec* iov, int count) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<size_t>(count);
  return m;
}

bool bad_iov_count(int count) {
  if (count >= 0 && count <= IOV_MAX) return false;
  errno = EINVAL;  // readv(2), writev(2)
  return true;
}

// sendfile(2) to tapir socket `t` from kernel descriptor `in`: read a piece, send it, and on a
// short send give the unsent part back to the file (its offset, or *offset).
ssize_t sendfile_to(int t, int in, off_t* offset, size_t count) {
  InsideStack inside;
  std::vector<char> buffer(std::min<size_t>(count, 256 * 1024));
  off_t position = offset ? *offset : 0;
  size_t done = 0;
  while (done < count) {
    const size_t want = std::min(buffer.size(), count - done);
    const ssize_t got =
        offset ? ::pread(in, buffer.data(), want, position) : real().read(in, buffer.data(), want);
    if (got < 0) {
      if (done > 0) break;
      return -1;
    }
    if (got == 0) break;  // end of file
    const ssize_t sent =
        with_sigpipe(tapir::send(t, buffer.data(), static_cast<size_t>(got), 0), 0);
    const ssize_t kept = sent < 0 ? 0 : sent;
    if (!offset && kept < got) ::lseek(in, kept - got, SEEK_CUR);
    position += kept;
    done += static_cast<size_t>(kept);
    if (sent < 0) {
      if (done > 0) break;
      return -1;
    }
    if (sent < got) break;  // a non-blocking socket took what it had room for
  }
  if (offset) *offset = position;
  return static_cast<ssize_t>(done);
}

}  // namespace

extern "C" {

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().send(fd, buf, len, flags);
  if (t == kOrphan) return orphan_error();
  return send_on(t, buf, len, flags, nullptr, 0);
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to,
               socklen_t to_len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().sendto(fd, buf, len, flags, to, to_len);
  if (t == kOrphan) return orphan_error();
  return send_on(t, buf, len, flags, to, to_len);
}

ssize_t recv(int fd, void* buf, size_t len, int flags) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().recv(fd, buf, len, flags);
  if (t == kOrphan) return orphan_error();
  return recv_on(t, buf, len, flags, nullptr, nullptr);
}

ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from, socklen_t* from_len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().recvfrom(fd, buf, len, flags, from, from_len);
  if (t == kOrphan) return orphan_error();
  return recv_on(t, buf, len, flags, from, from_len);
}

ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().sendmsg(fd, msg, flags);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return with_sigpipe(tapir::sendmsg(t, msg, flags), flags);
}

ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().recvmsg(fd, msg, flags);
  if (t == kOrphan) return orphan_error();
  InsideStack inside;
  return tapir::recvmsg(t, msg, flags);
}

// sendmmsg(2): the messages one by one; an error after the first is left for the next call,
// as Linux does, and the count so far returned.
int sendmmsg(int fd, mmsghdr* msgs, unsigned int count, int flags) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().sendmmsg(fd, msgs, count, flags);
  if (t == kOrphan) return orphan_error();
  if (count > UIO_MAXIOV) count = UIO_MAXIOV;
  if (count > 0 && !msgs) {
    errno = EFAULT;
    return -1;
  }
  InsideStack inside;
  unsigned int sent = 0;
  for (; sent < count; ++sent) {
    const ssize_t n = with_sigpipe(tapir::sendmsg(t, &msgs[sent].msg_hdr, flags), flags);
    if (n < 0) return sent > 0 ? static_cast<int>(sent) : -1;
    msgs[sent].msg_len = static_cast<unsigned int>(n);
  }
  return static_cast<int>(sent);
}

// recvmmsg(2): the first message as recvmsg() would take it; with MSG_WAITFORONE the rest
// only if already queued; the timeout, as Linux's, is looked at after each message.
int recvmmsg(int fd, mmsghdr* msgs, unsigned int count, int flags, timespec* timeout) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().recvmmsg(fd, msgs, count, flags, timeout);
  if (t == kOrphan) return orphan_error();
  if (count > UIO_MAXIOV) count = UIO_MAXIOV;
  if (count > 0 && !msgs) {
    errno = EFAULT;
    return -1;
  }
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)) {
    errno = EINVAL;
    return -1;
  }
  InsideStack inside;
  const Deadline deadline = deadline_after(timeout);
  const int base = flags & ~MSG_WAITFORONE;
  unsigned int got = 0;
  for (; got < count; ++got) {
    const int f = (got > 0 && (flags & MSG_WAITFORONE)) ? base | MSG_DONTWAIT : base;
    const ssize_t n = tapir::recvmsg(t, &msgs[got].msg_hdr, f);
    if (n < 0) {
      if (got > 0) break;
      return -1;
    }
    msgs[got].msg_len = static_cast<unsigned int>(n);
    if (passed(deadline)) {
      ++got;
      break;
    }
  }
  if (timeout) time_left(deadline, *timeout);
  return static_cast<int>(got);
}

ssize_t read(int fd, void* buf, size_t len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().read(fd, buf, len);
  if (t == kOrphan) return orphan_error();
  return recv_on(t, buf, len, 0, nullptr, nullptr);
}

ssize_t write(int fd, const void* buf, size_t len) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().write(fd, buf, len);
  if (t == kOrphan) return orphan_error();
  return send_on(t, buf, len, 0, nullptr, 0);
}

ssize_t readv(int fd, const iovec* iov, int count) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().readv(fd, iov, count);
  if (t == kOrphan) return orphan_error();
  if (bad_iov_count(count)) return -1;
  msghdr m = message_of(iov, count);
  InsideStack inside;
  return tapir::recvmsg(t, &m, 0);
}

ssize_t writev(int fd, const iovec* iov, int count) {
  const int t = fd_table().lookup(fd);
  if (t == kKernel) return real().writev(fd, iov, count);
  if (t == kOrphan) return orphan_error();
  if (bad_iov_count(count)) return -1;
  const msghdr m = message_of(iov, count);
  InsideStack inside;
  return with_sigpipe(tapir::sendmsg(t, &m, 0), 0);
}

ssize_t sendfile(int out, int in, off_t* offset, size_t count) {
  const int t_out = fd_table().lookup(out);
  const int t_in = fd_table().lookup(in);
  if (t_out == kKernel && t_in == kKernel) return real().sendfile(out, in, offset, count);
  if (t_out == kOrphan || t_in == kOrphan) return orphan_error();
  // sendfile(2): in_fd must be a file that supports mmap-like reads, which a socket is not.
  if (t_in >= 0 || t_out < 0) {
    errno = EINVAL;
    return -1;
  }
  return sendfile_to(t_out, in, offset, count);
}

// On 64-bit Linux off_t is 64 bits, and sendfile64 is the same call.
ssize_t sendfile64(int out, int in, off_t* offset, size_t count) {
  return sendfile(out, in, offset, count);
}

ssize_t __read_chk(int fd, void* buf, size_t len, size_t buf_len) {
  if (len > buf_len) __chk_fail();
  return read(fd, buf, len);
}

ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buf_len, int flags) {
  if (len > buf_len) __chk_fail();
  return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buf_len, int flags, sockaddr* from,
                       socklen_t* from_len) {
  if (len > buf_len) __chk_fail();
  return recvfrom(fd, buf, len, flags, from, from_len);
}

}  // extern "C"
