// The C library's functions behind ours, looked up with dlsym(RTLD_NEXT).
#include "preload/real_calls.hpp"

#include <dlfcn.h>

namespace tapir::preload {

namespace {

template <typename F>
void find(F& f, const char* name) {
  f = reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

RealCalls resolve() {
  RealCalls r{};
  find(r.socket, "socket");
  find(r.bind, "bind");
  find(r.listen, "listen");
  find(r.accept, "accept");
  find(r.accept4, "accept4");
  find(r.connect, "connect");
  find(r.send, "send");
  find(r.recv, "recv");
  find(r.sendto, "sendto");
  find(r.recvfrom, "recvfrom");
  find(r.sendmsg, "sendmsg");
  find(r.recvmsg, "recvmsg");
  find(r.sendmmsg, "sendmmsg");
  find(r.recvmmsg, "recvmmsg");
  find(r.read, "read");
  find(r.write, "write");
  find(r.readv, "readv");
  find(r.writev, "writev");
  find(r.sendfile, "sendfile");
  find(r.close, "close");
  find(r.shutdown, "shutdown");
  find(r.dup, "dup");
  find(r.dup2, "dup2");
  find(r.dup3, "dup3");
  find(r.fcntl, "fcntl");
  find(r.ioctl, "ioctl");
  find(r.setsockopt, "setsockopt");
  find(r.getsockopt, "getsockopt");
  find(r.getsockname, "getsockname");
  find(r.getpeername, "getpeername");
  find(r.poll, "poll");
  find(r.ppoll, "ppoll");
  find(r.select, "select");
  find(r.pselect, "pselect");
  find(r.epoll_ctl, "epoll_ctl");
  find(r.epoll_wait, "epoll_wait");
  find(r.epoll_pwait, "epoll_pwait");
  find(r.epoll_pwait2, "epoll_pwait2");
  find(r.getaddrinfo, "getaddrinfo");
  find(r.fstat, "fstat");
  return r;
}

}  // namespace

const RealCalls& real() {
  // A function-local static of a trivially destructible type: initialised once, thread-safely,
  // and never destroyed, so calls made during exit still find the C library.
  static const RealCalls calls = resolve();
  return calls;
}

}  // namespace tapir::preload
