// socket-calls: an ordinary Linux program (no tapir in it) that uses the calls nc, curl and
// python do not: sendmmsg/recvmmsg on UDP, writev/readv, sendfile from a file, dup2 and
// F_DUPFD_CLOEXEC (the socket lives while any copy does), FIONREAD, SO_RCVTIMEO on a blocking
// recv. Run under tapir-run against Linux's UDP and TCP echo; prints "ok WHAT" or "FAIL WHAT:
// why" per check and exits 0 only when every check passed.
//
//   socket-calls ADDR UDP-PORT TCP-PORT
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const char* what, const std::string& why = "") {
  if (ok) {
    std::printf("ok %s\n", what);
  } else {
    std::printf("FAIL %s: %s\n", what, why.empty() ? std::strerror(errno) : why.c_str());
    ++failures;
  }
}

sockaddr_in peer(const char* addr, const char* port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<unsigned short>(std::atoi(port)));
  ::inet_pton(AF_INET, addr, &a.sin_addr);
  return a;
}

bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

// Reads exactly n bytes (bounded: 10 s of silence fails).
std::string read_exactly(int fd, std::size_t n) {
  std::string got;
  char buf[65536];
  while (got.size() < n && readable(fd, 10000)) {
    const ssize_t k = ::read(fd, buf, std::min(sizeof buf, n - got.size()));
    if (k <= 0) break;
    got.append(buf, static_cast<std::size_t>(k));
  }
  return got;
}

void udp_checks(const sockaddr_in& to) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  check(fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0,
        "udp: socket and connect");
  const char* words[3] = {"one", "two", "three"};
  iovec iov[3];
  mmsghdr out[3]{};
  for (int i = 0; i < 3; ++i) {
    iov[i] = iovec{const_cast<char*>(words[i]), std::strlen(words[i])};
    out[i].msg_hdr.msg_iov = &iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }
  check(::sendmmsg(fd, out, 3, 0) == 3 && out[2].msg_len == 5, "udp: sendmmsg sends 3 datagrams");
  char bufs[3][16];
  iovec in_iov[3];
  mmsghdr in[3]{};
  int got = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got < 3 && std::chrono::steady_clock::now() < end && readable(fd, 10000)) {
    for (int i = got; i < 3; ++i) {
      in_iov[i] = iovec{bufs[i], sizeof bufs[i]};
      in[i].msg_hdr.msg_iov = &in_iov[i];
      in[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, in + got, static_cast<unsigned>(3 - got), MSG_WAITFORONE, nullptr);
    if (n < 0) break;
    got += n;
  }
  // The echo forks a server per datagram, so the answers may come in any order.
  std::vector<std::string> answers;
  for (int i = 0; i < got; ++i) answers.emplace_back(bufs[i], in[i].msg_len);
  std::sort(answers.begin(), answers.end());
  check(answers == std::vector<std::string>{"one", "three", "two"},
        "udp: recvmmsg gets the 3 echoes", "got " + std::to_string(got));
  ::close(fd);
}

void tcp_checks(const sockaddr_in& to) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  check(fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0,
        "tcp: socket and blocking connect");

  // writev, FIONREAD, readv.
  char a[] = "gather ", b[] = "three ", c[] = "pieces";
  iovec parts[3] = {{a, 7}, {b, 6}, {c, 6}};
  check(::writev(fd, parts, 3) == 19, "tcp: writev of 3 pieces");
  int queued = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (queued < 19 && std::chrono::steady_clock::now() < end && readable(fd, 10000)) {
    ::ioctl(fd, FIONREAD, &queued);
    if (queued < 19) readable(fd, 10);  // the rest of the echo is on its way
  }
  check(queued == 19, "tcp: FIONREAD says 19 bytes are waiting", std::to_string(queued));
  char x[8], y[11];
  iovec scatter[2] = {{x, sizeof x}, {y, sizeof y}};
  check(::readv(fd, scatter, 2) == 19 &&
            std::string(x, 8) + std::string(y, 11) == "gather three pieces",
        "tcp: readv scatters the echo");

  // SO_RCVTIMEO bounds a blocking read: EAGAIN after about 200 ms.
  const timeval timeout{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char one;
  const auto t0 = std::chrono::steady_clock::now();
  const ssize_t r = ::recv(fd, &one, 1, 0);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  check(r == -1 && errno == EAGAIN && ms >= 150 && ms < 5000,
        "tcp: SO_RCVTIMEO ends a read with EAGAIN",
        "returned " + std::to_string(r) + " after " + std::to_string(ms) + " ms");

  // dup2 and F_DUPFD_CLOEXEC: copies of the socket work, and it lives while any does.
  check(::dup2(fd, 40) == 40 && ::write(40, "via 40", 6) == 6, "tcp: dup2 copy writes");
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 50);
  check(copy >= 50 && (::fcntl(copy, F_GETFD) & FD_CLOEXEC),
        "tcp: F_DUPFD_CLOEXEC copy, FD_CLOEXEC set");
  check((::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0, "tcp: the original has no FD_CLOEXEC");
  ::close(fd);
  ::close(40);
  check(read_exactly(copy, 6) == "via 40", "tcp: after closing two copies the third still reads");

  // sendfile from a file, 1 MiB, then the echo back through the remaining copy.
  char path[] = "/tmp/socket-calls.XXXXXX";
  const int file = ::mkstemp(path);
  ::unlink(path);
  std::vector<char> data(1 << 20);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7919) >> 3);
  check(::write(file, data.data(), data.size()) == static_cast<ssize_t>(data.size()),
        "file written");
  off_t offset = 0;
  ssize_t sent = 0;
  while (sent < static_cast<ssize_t>(data.size())) {
    const ssize_t n = ::sendfile(copy, file, &offset, data.size() - static_cast<std::size_t>(sent));
    if (n <= 0) break;
    sent += n;
  }
  check(sent == static_cast<ssize_t>(data.size()) && offset == sent,
        "tcp: sendfile sends 1 MiB from a file");
  check(read_exactly(copy, data.size()) == std::string(data.data(), data.size()),
        "tcp: the 1 MiB echo is byte-exact");
  off_t none = 0;
  check(::sendfile(file, copy, &none, 10) == -1 && errno == EINVAL,
        "tcp: sendfile from a socket is EINVAL, as Linux");
  ::close(file);
  check(::shutdown(copy, SHUT_WR) == 0, "tcp: shutdown(SHUT_WR)");
  check(readable(copy, 10000) && ::read(copy, &one, 1) == 0,
        "tcp: end of file once the echo closes");
  check(::close(copy) == 0, "tcp: close of the last copy");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: socket-calls ADDR UDP-PORT TCP-PORT\n");
    return 2;
  }
  udp_checks(peer(argv[1], argv[2]));
  tcp_checks(peer(argv[1], argv[3]));
  return failures == 0 ? 0 : 1;
}
