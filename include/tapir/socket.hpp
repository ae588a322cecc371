// tapir's BSD socket API: the same names, arguments, structures and constants as Linux, in
// namespace tapir, over the stack of the current Host (see <tapir/host.hpp>).
//
// A classic program ports by qualifying its calls: socket(...) becomes tapir::socket(...),
// and so on. Errors return -1 with errno set to the code Linux would use. Calls block as
// Linux's do (honouring O_NONBLOCK, MSG_DONTWAIT, SO_RCVTIMEO and SO_SNDTIMEO); descriptors
// are tapir's own, not the process's, so they mix with tapir calls only (tapir::poll, not
// ::poll). docs/API.md lists what differs from POSIX and why.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace tapir {

class Host;

// The Host whose stack the calls below use. The first Host started becomes current; an app
// with several Hosts (or a test) picks one explicitly.
void use_host(Host& host);
Host* current_host();

int socket(int domain, int type, int protocol);
int bind(int fd, const sockaddr* addr, socklen_t len);
int connect(int fd, const sockaddr* addr, socklen_t len);
int listen(int fd, int backlog);
int accept(int fd, sockaddr* addr, socklen_t* len);
ssize_t send(int fd, const void* buf, size_t len, int flags);
ssize_t recv(int fd, void* buf, size_t len, int flags);
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* addr,
               socklen_t addr_len);
ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* addr, socklen_t* addr_len);
ssize_t sendmsg(int fd, const msghdr* msg, int flags);
ssize_t recvmsg(int fd, msghdr* msg, int flags);
int shutdown(int fd, int how);
int close(int fd);
int getsockname(int fd, sockaddr* addr, socklen_t* len);
int getpeername(int fd, sockaddr* addr, socklen_t* len);
int setsockopt(int fd, int level, int name, const void* value, socklen_t len);
int getsockopt(int fd, int level, int name, void* value, socklen_t* len);
// fcntl(fd, F_GETFL) / fcntl(fd, F_SETFL, flags): O_NONBLOCK only.
int fcntl(int fd, int cmd, int arg = 0);
// ioctl(fd, FIONREAD, &n): bytes in the next datagram.
int ioctl(int fd, unsigned long request, int* arg);
// poll(2) over tapir descriptors: POLLIN, POLLOUT, POLLERR, POLLHUP, POLLNVAL; timeout in ms
// (-1 forever, 0 at once).
int poll(pollfd* fds, nfds_t count, int timeout_ms);

}  // namespace tapir
