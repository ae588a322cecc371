#include "runtime/control/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace tapir::runtime {

namespace {

constexpr std::size_t kMaxRequest = 4096;  // a longer line is answered with an error

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::system_category(), what);
}

}  // namespace

std::string control_dir() {
  const char* dir = std::getenv("TAPIR_CTL_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/run/tapir";
}

ControlServer::ControlServer(const std::string& dir, const std::string& name, Handler handler)
    : path_(dir + "/" + name + ".sock"), handler_(std::move(handler)) {
  if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("mkdir " + dir);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    throw_errno(path_);
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw_errno("socket");
  // A socket file left by a program that died without cleaning up: nobody accepts on it.
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    ::close(fd_);
    errno = EADDRINUSE;
    throw_errno(path_ + " (another program has this --name)");
  }
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw_errno("socket");
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0 ||
      ::listen(fd_, 16) < 0) {
    const int e = errno;
    ::close(fd_);
    errno = e;
    throw_errno(path_);
  }
}

ControlServer::~ControlServer() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

void ControlServer::serve_one() {
  const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;  // EAGAIN: another wake-up took it; anything else: nothing to answer
  // tapirctl writes its line as soon as it connects; a silent client costs the loop at most
  // this long (the stack's timers are coarser).
  timeval limit{0, 200000};
  (void)::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  (void)::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  std::string request;
  char buf[512];
  bool complete = false;
  while (request.size() <= kMaxRequest) {
    const ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) break;
    request.append(buf, static_cast<std::size_t>(n));
    if (const auto nl = request.find('\n'); nl != std::string::npos) {
      request.resize(nl);
      complete = true;
      break;
    }
  }
  if (!complete && request.size() > kMaxRequest) request.clear();
  const std::string reply =
      complete || !request.empty() ? handler_(request) : "error: no request line\n";
  std::size_t sent = 0;
  while (sent < reply.size()) {
    const ssize_t n = ::send(client, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::close(client);
}

}  // namespace tapir::runtime
