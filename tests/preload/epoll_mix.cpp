// epoll-mix: an ordinary Linux program (no tapir in it) that moves a byte stream from a pipe
// to a TCP echo server and checks what comes back, waiting on the pipe and the socket together
// in one epoll set (level- or edge-triggered), or with poll() or select(). Run under tapir-run,
// the socket is tapir's and the pipe the kernel's: the preload library's readiness mirror is
// what makes one wait cover both.
//
//   epoll-mix MODE ADDR PORT BYTES     MODE: epoll-lt, epoll-et, poll or select
//
// Prints "fds socket=S pipe=R,W epoll=E", then "sent N sha256 X" and "received N sha256 Y";
// exits 0 when the echo is whole and equal, 1 otherwise (with a line saying why).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

enum class Mode { epoll_lt, epoll_et, poll, select };

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "epoll-mix: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

// The bytes the writer thread puts in the pipe: xorshift, so any slip shows.
void fill(std::vector<std::uint8_t>& out, std::uint64_t& state) {
  for (auto& b : out) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    b = static_cast<std::uint8_t>(state);
  }
}

class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Digest() { EVP_MD_CTX_free(ctx_); }
  void add(const std::uint8_t* p, std::size_t n) {
    EVP_DigestUpdate(ctx_, p, n);
    bytes_ += n;
  }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    std::string s;
    char two[3];
    for (unsigned int i = 0; i < len; ++i) {
      std::snprintf(two, sizeof two, "%02x", md[i]);
      s += two;
    }
    return s;
  }
  std::size_t bytes() const { return bytes_; }

 private:
  EVP_MD_CTX* ctx_;
  std::size_t bytes_ = 0;
};

struct Streams {
  int sock = -1;
  int pipe_in = -1;                   // read end
  std::vector<std::uint8_t> pending;  // from the pipe, not yet sent
  bool pipe_done = false;
  bool shut = false;
  bool echo_done = false;
  Digest sent;
  Digest received;
};

// Each step does what is possible without blocking; returns false on a hard error.
void read_pipe(Streams& s) {
  std::uint8_t buf[65536];
  while (!s.pipe_done && s.pending.size() < 1 << 20) {
    const ssize_t n = ::read(s.pipe_in, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) die("read from the pipe");
    if (n == 0) {
      s.pipe_done = true;
      return;
    }
    s.pending.insert(s.pending.end(), buf, buf + n);
  }
}

void write_socket(Streams& s) {
  while (!s.pending.empty()) {
    const ssize_t n = ::send(s.sock, s.pending.data(), s.pending.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) die("send");
    s.sent.add(s.pending.data(), static_cast<std::size_t>(n));
    s.pending.erase(s.pending.begin(), s.pending.begin() + n);
  }
  if (s.pipe_done && !s.shut) {
    if (::shutdown(s.sock, SHUT_WR) != 0) die("shutdown");
    s.shut = true;
  }
}

void read_socket(Streams& s) {
  std::uint8_t buf[65536];
  for (;;) {
    const ssize_t n = ::recv(s.sock, buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) die("recv");
    if (n == 0) {
      s.echo_done = true;
      return;
    }
    s.received.add(buf, static_cast<std::size_t>(n));
  }
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) die("fcntl O_NONBLOCK");
}

// Waits (at most 10 s per wait) for the socket to connect, with the mode's own call.
void wait_connected(Mode mode, int sock, int epfd) {
  bool ready = false;
  if (mode == Mode::epoll_lt || mode == Mode::epoll_et) {
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.fd = sock;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, sock, &ev) != 0) die("epoll_ctl ADD (connect)");
    epoll_event got{};
    ready = ::epoll_wait(epfd, &got, 1, 10000) == 1 && got.data.fd == sock;
    if (::epoll_ctl(epfd, EPOLL_CTL_DEL, sock, nullptr) != 0) die("epoll_ctl DEL (connect)");
  } else if (mode == Mode::poll) {
    pollfd p{sock, POLLOUT, 0};
    ready = ::poll(&p, 1, 10000) == 1 && (p.revents & POLLOUT);
  } else {
    fd_set w;
    FD_ZERO(&w);
    FD_SET(sock, &w);
    timeval tv{10, 0};
    ready = ::select(sock + 1, nullptr, &w, nullptr, &tv) == 1 && FD_ISSET(sock, &w);
  }
  int error = 0;
  socklen_t len = sizeof error;
  if (!ready || ::getsockopt(sock, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
    errno = error ? error : ETIMEDOUT;
    die("connect");
  }
}

// One wait of the event loop: sets what is ready. Returns false after 10 s of nothing.
bool wait_once(Mode mode, Streams& s, int epfd, bool& pipe_ready, bool& sock_in, bool& sock_out) {
  pipe_ready = sock_in = sock_out = false;
  const bool want_out = !s.pending.empty() || (s.pipe_done && !s.shut);
  const bool want_pipe = !s.pipe_done && s.pending.size() < 1 << 20;
  if (mode == Mode::epoll_lt || mode == Mode::epoll_et) {
    if (mode == Mode::epoll_lt) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want_out ? std::uint32_t{EPOLLOUT} : 0U);
      ev.data.fd = s.sock;
      if (::epoll_ctl(epfd, EPOLL_CTL_MOD, s.sock, &ev) != 0) die("epoll_ctl MOD");
    }
    epoll_event events[4];
    const int n = ::epoll_wait(epfd, events, 4, 10000);
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == s.pipe_in) pipe_ready = true;
      if (events[i].data.fd == s.sock) {
        sock_in = events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR);
        sock_out = events[i].events & EPOLLOUT;
      }
    }
    // Edge-triggered: a descriptor is worked until EAGAIN each time it is reported, and the
    // pipe is also read when there is room again (its edge may have come while it was full).
    if (mode == Mode::epoll_et && want_pipe) pipe_ready = true;
    return n > 0;
  }
  if (mode == Mode::poll) {
    pollfd p[2] = {{s.sock, static_cast<short>(POLLIN | (want_out ? POLLOUT : 0)), 0},
                   {want_pipe ? s.pipe_in : -1, POLLIN, 0}};
    const int n = ::poll(p, 2, 10000);
    if (n < 0) die("poll");
    sock_in = p[0].revents & (POLLIN | POLLHUP | POLLERR);
    sock_out = p[0].revents & POLLOUT;
    pipe_ready = p[1].revents != 0;
    return n > 0;
  }
  fd_set r;
  fd_set w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(s.sock, &r);
  if (want_out) FD_SET(s.sock, &w);
  if (want_pipe) FD_SET(s.pipe_in, &r);
  timeval tv{10, 0};
  const int n = ::select(std::max(s.sock, s.pipe_in) + 1, &r, &w, nullptr, &tv);
  if (n < 0) die("select");
  sock_in = FD_ISSET(s.sock, &r);
  sock_out = FD_ISSET(s.sock, &w);
  pipe_ready = want_pipe && FD_ISSET(s.pipe_in, &r);
  return n > 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: epoll-mix epoll-lt|epoll-et|poll|select ADDR PORT BYTES\n");
    return 2;
  }
  const std::string_view m = argv[1];
  Mode mode = Mode::epoll_lt;
  if (m == "epoll-et") {
    mode = Mode::epoll_et;
  } else if (m == "poll") {
    mode = Mode::poll;
  } else if (m == "select") {
    mode = Mode::select;
  } else if (m != "epoll-lt") {
    std::fprintf(stderr, "epoll-mix: unknown mode %s\n", argv[1]);
    return 2;
  }
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[3])));
  if (::inet_pton(AF_INET, argv[2], &peer.sin_addr) != 1) {
    std::fprintf(stderr, "epoll-mix: bad address %s\n", argv[2]);
    return 2;
  }
  const std::size_t total = std::strtoull(argv[4], nullptr, 10);

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) die("pipe");
  Streams s;
  s.pipe_in = pipe_fds[0];
  set_nonblocking(s.pipe_in);
  s.sock = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s.sock < 0) die("socket");
  const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  std::printf("fds socket=%d pipe=%d,%d epoll=%d\n", s.sock, pipe_fds[0], pipe_fds[1], epfd);
  std::fflush(stdout);

  if (::connect(s.sock, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0 &&
      errno != EINPROGRESS) {
    die("connect");
  }
  wait_connected(mode, s.sock, epfd);

  // The writer: the whole stream into the pipe, in pieces of odd sizes, then end of file.
  std::thread writer([fd = pipe_fds[1], total] {
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    std::vector<std::uint8_t> chunk;
    std::size_t done = 0;
    while (done < total) {
      chunk.resize(std::min<std::size_t>(total - done, 1000 + done % 30000));
      fill(chunk, state);
      std::size_t off = 0;
      while (off < chunk.size()) {
        const ssize_t n = ::write(fd, chunk.data() + off, chunk.size() - off);
        if (n < 0) die("write to the pipe");
        off += static_cast<std::size_t>(n);
      }
      done += chunk.size();
    }
    ::close(fd);
  });

  if (mode == Mode::epoll_lt || mode == Mode::epoll_et) {
    const std::uint32_t et = mode == Mode::epoll_et ? std::uint32_t{EPOLLET} : 0U;
    epoll_event ev{};
    ev.events = EPOLLIN | et;
    ev.data.fd = s.pipe_in;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, s.pipe_in, &ev) != 0) die("epoll_ctl ADD pipe");
    ev.events = EPOLLIN | (et ? std::uint32_t{EPOLLOUT | EPOLLET | EPOLLRDHUP} : 0U);
    ev.data.fd = s.sock;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, s.sock, &ev) != 0) die("epoll_ctl ADD socket");
  }

  bool pipe_ready = true;
  bool sock_in = false;
  bool sock_out = true;
  while (!s.echo_done) {
    if (pipe_ready) read_pipe(s);
    if (sock_out || mode == Mode::epoll_et) write_socket(s);
    if (sock_in || mode == Mode::epoll_et) read_socket(s);
    if (s.echo_done) break;
    if (!wait_once(mode, s, epfd, pipe_ready, sock_in, sock_out)) {
      std::fprintf(stderr, "epoll-mix: nothing happened for 10 s (sent %zu, received %zu)\n",
                   s.sent.bytes(), s.received.bytes());
      writer.detach();
      return 1;
    }
  }
  writer.join();
  ::close(s.sock);
  ::close(epfd);
  ::close(s.pipe_in);
  const std::size_t sent = s.sent.bytes();
  const std::size_t received = s.received.bytes();
  std::printf("sent %zu sha256 %s\n", sent, s.sent.hex().c_str());
  std::printf("received %zu sha256 %s\n", received, s.received.hex().c_str());
  return sent == total && received == total ? 0 : 1;
}
