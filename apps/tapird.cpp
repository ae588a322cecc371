// tapird: the tapir stack as a host on a TAP or an interface; it answers ARP and ping, runs the
// classic small services (echo, discard, daytime, chargen) on UDP and TCP, and with --http
// serves a directory over HTTP/1.1.
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

#include "http_server.hpp"

namespace {

// RFC 867: "there is no specific syntax for the daytime"; this is the example's layout,
// "Weekday, Month Day, Year HH:MM:SS-ZONE", in UTC.
std::string daytime_line() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &utc);
  return std::string(text, n);
}

// RFC 864's pattern: lines of 72 of the 95 printable ASCII characters, each line starting one
// character further on, so the stream is easy to check by eye.
class Chargen {
 public:
  // RFC 864 over UDP: "a random number (between 0 and 512) of characters".
  std::string next_datagram() {
    const std::size_t length = std::uniform_int_distribution<std::size_t>(0, 512)(random_);
    std::string data;
    for (std::size_t line = first_line_; data.size() < length; ++line) {
      for (std::size_t i = 0; i < line_length; ++i)
        data += static_cast<char>(' ' + (line + i) % 95);
      data += "\r\n";
    }
    data.resize(length);
    first_line_ = (first_line_ + 1) % 95;  // the next datagram starts one character on
    return data;
  }

 private:
  static constexpr std::size_t line_length = 72;
  std::size_t first_line_ = 0;
  std::mt19937 random_{std::random_device{}()};
};

// The RFC 862/863/867/864 services on UDP, one thread polling their four sockets.
class UdpServices {
 public:
  enum Service { echo, discard, daytime, chargen, count };

  // Binds the four sockets (on INADDR_ANY). Returns an error line, or "" when all are open.
  std::string open() {
    static constexpr std::array<std::uint16_t, count> ports{7, 9, 13, 19};
    static constexpr std::array<const char*, count> names{"echo", "discard", "daytime", "chargen"};
    for (int i = 0; i < count; ++i) {
      // Non-blocking: after poll says a socket is readable, it is drained until EAGAIN.
      const int fd = tapir::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(ports[i]);
      addr.sin_addr.s_addr = htonl(INADDR_ANY);
      if (fd < 0 || tapir::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        return std::string("udp ") + names[i] + ": " + std::strerror(errno);
      }
      fds_[i] = pollfd{fd, POLLIN, 0};
    }
    return "";
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // Closing the sockets wakes the thread's tapir::poll (POLLNVAL), and it sees stopping_.
  void stop() {
    stopping_ = true;
    for (pollfd& p : fds_) {
      if (p.fd >= 0) tapir::close(p.fd);
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  // A burst to one service gets at most this many answers before the others get a turn.
  static constexpr int batch = 64;
  // The largest UDP payload (65535 less the IP and UDP headers).
  static constexpr std::size_t max_datagram = 65507;

  void run() {
    while (!stopping_) {
      if (tapir::poll(fds_.data(), fds_.size(), -1) < 0) return;  // the Host stopped
      for (int i = 0; i < count && !stopping_; ++i) {
        if (fds_[i].revents & POLLIN) serve(static_cast<Service>(i));
      }
    }
  }

  void serve(Service service) {
    const int fd = fds_[service].fd;
    for (int n = 0; n < batch; ++n) {
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      const ssize_t got = tapir::recvfrom(fd, buffer_.data(), buffer_.size(), 0,
                                          reinterpret_cast<sockaddr*>(&from), &from_len);
      if (got < 0) return;  // EAGAIN: drained (or EBADF: stopping)
      // Never answer another small service: an echo or chargen at the other end would answer
      // back, and the two would bounce datagrams forever (CERT CA-1996-01). Port 0 is no
      // source at all.
      const std::uint16_t port = ntohs(from.sin_port);
      if (port == 0 || port == 7 || port == 9 || port == 13 || port == 19) continue;
      switch (service) {
        case echo:  // RFC 862: "send back ... the data it received"
          reply(fd, from, buffer_.data(), static_cast<std::size_t>(got));
          break;
        case discard:  // RFC 863: "throw away any data it receives"
          break;
        case daytime: {  // RFC 867: the data received is ignored
          const std::string line = daytime_line();
          reply(fd, from, line.data(), line.size());
          break;
        }
        case chargen: {  // RFC 864: the data received is ignored
          const std::string data = chargen_.next_datagram();
          reply(fd, from, data.data(), data.size());
          break;
        }
        case count:
          break;
      }
    }
  }

  // A reply that cannot go (no route back, say) is simply not sent: UDP promises nothing.
  static void reply(int fd, const sockaddr_in& to, const void* data, std::size_t len) {
    (void)tapir::sendto(fd, data, len, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }

  std::array<pollfd, count> fds_{pollfd{-1, 0, 0}, pollfd{-1, 0, 0}, pollfd{-1, 0, 0},
                                 pollfd{-1, 0, 0}};
  std::vector<char> buffer_ = std::vector<char>(max_datagram);
  Chargen chargen_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// RFC 864's pattern as one TCP stream: lines of 72 characters and CRLF, line k starting with
// printable character k mod 95; byte `offset` of it.
char chargen_stream_byte(std::uint64_t offset) {
  constexpr std::uint64_t line_bytes = 74;  // 72 characters, CR, LF
  const std::uint64_t line = offset / line_bytes;
  const std::uint64_t column = offset % line_bytes;
  if (column == 72) return '\r';
  if (column == 73) return '\n';
  return static_cast<char>(' ' + (line + column) % 95);
}

// The same four services on TCP, one thread polling the four listeners and every connection.
class TcpServices {
 public:
  enum Service { echo, discard, daytime, chargen, count };

  ~TcpServices() { stop(); }

  // Opens the four listeners (on INADDR_ANY). Returns an error line, or "" when all are open.
  std::string open() {
    static constexpr std::array<std::uint16_t, count> ports{7, 9, 13, 19};
    static constexpr std::array<const char*, count> names{"echo", "discard", "daytime", "chargen"};
    for (int i = 0; i < count; ++i) {
      // Non-blocking: after poll says a listener is readable, it is accepted from until EAGAIN.
      const int fd = tapir::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (fd < 0) return close_listeners(std::string("tcp ") + names[i] + ": socket: ");
      listeners_[i] = fd;
      const int on = 1;  // a restarted tapird binds at once, despite old connections' TIME-WAIT
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(ports[i]);
      addr.sin_addr.s_addr = htonl(INADDR_ANY);
      if (tapir::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
          tapir::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
          tapir::listen(fd, 64) < 0) {
        return close_listeners(std::string("tcp ") + names[i] + ": ");
      }
    }
    return "";
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // The thread sees stopping_ within one poll tick, then closes everything.
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& c : connections_) close_now(*c);
    connections_.clear();
    close_listeners("");
  }

 private:
  // How long one tapir::poll waits at most: how soon stop() and the linger timeouts are seen.
  static constexpr int tick_ms = 200;
  // Connections at once, all services together; more wait in the listen backlogs.
  static constexpr std::size_t max_connections = 256;
  // Echo: bytes received and not yet sent back; past this the client is not read until its
  // echo drains (a client that sends without reading cannot grow tapird's memory).
  static constexpr std::size_t max_pending = 64 * 1024;
  // Chargen: how much of the pattern is queued ahead of the socket.
  static constexpr std::size_t chargen_chunk = 16 * 1024;
  // After daytime's line: how long to wait for the client's FIN (see begin_close).
  static constexpr auto linger_time = std::chrono::seconds(2);

  using Clock = std::chrono::steady_clock;

  struct Connection {
    int fd = -1;
    Service service = echo;
    std::string out;  // echo: received, not yet sent back; daytime: the line; chargen: pattern
    std::size_t out_sent = 0;
    std::uint64_t chargen_offset = 0;  // where in the pattern `out` ends
    bool peer_done = false;            // the client's FIN came
    bool closing = false;              // our FIN is sent; reading until theirs
    Clock::time_point linger_until;
    bool dead = false;
  };

  // Closes the listeners; returns `prefix` and errno's text when a prefix is given.
  std::string close_listeners(const std::string& prefix) {
    const std::string error = prefix.empty() ? "" : prefix + std::strerror(errno);
    for (int& fd : listeners_) {
      if (fd >= 0) tapir::close(fd);
      fd = -1;
    }
    return error;
  }

  static short events_for(const Connection& c) {
    if (c.closing) return POLLIN;
    const bool pending = c.out_sent < c.out.size();
    switch (c.service) {
      case echo:
        return static_cast<short>((!c.peer_done && c.out.size() < max_pending ? POLLIN : 0) |
                                  (pending ? POLLOUT : 0));
      case chargen:  // always more to send; reading only to see the client's FIN
        return POLLIN | POLLOUT;
      case daytime:
        return static_cast<short>(POLLIN | (pending ? POLLOUT : 0));
      default:  // discard
        return POLLIN;
    }
  }

  void run() {
    std::vector<pollfd> fds;
    while (!stopping_) {
      fds.clear();
      const bool room = connections_.size() < max_connections;
      for (int fd : listeners_) fds.push_back(pollfd{room ? fd : -1, POLLIN, 0});
      for (const auto& c : connections_) fds.push_back(pollfd{c->fd, events_for(*c), 0});
      if (tapir::poll(fds.data(), fds.size(), tick_ms) < 0) return;  // the Host stopped

      for (std::size_t i = 0; i < connections_.size(); ++i) {
        const short revents = fds[count + i].revents;
        if (revents != 0) serve(*connections_[i], revents);
      }
      for (int i = 0; i < count; ++i) {
        if (fds[i].revents & POLLIN) accept_all(static_cast<Service>(i));
      }
      const Clock::time_point now = Clock::now();
      for (auto& c : connections_) {
        if (c->closing && now >= c->linger_until) close_now(*c);
      }
      std::erase_if(connections_, [](const auto& c) { return c->dead; });
    }
  }

  void accept_all(Service service) {
    while (connections_.size() < max_connections) {
      const int fd = tapir::accept(listeners_[service], nullptr, nullptr);
      if (fd < 0) return;  // EAGAIN: none left; ECONNABORTED, EMFILE: at the next round
      // Accepted sockets start blocking, as on Linux; this one thread may never block.
      if (tapir::fcntl(fd, F_SETFL, tapir::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        tapir::close(fd);
        continue;
      }
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      c->service = service;
      // RFC 867: "the server sends the daytime as an ASCII character string... and closes".
      if (service == daytime) c->out = daytime_line();
      serve(*c, 0);  // daytime's line and chargen's first chunk go out now
      if (!c->dead) connections_.push_back(std::move(c));
    }
  }

  void serve(Connection& c, short revents) {
    if (revents & (POLLERR | POLLNVAL)) return close_now(c);  // reset: nothing more to do
    if (c.closing) return linger(c);
    if (revents & (POLLIN | POLLHUP)) receive(c);
    if (c.dead) return;
    if (c.service == chargen && c.out.size() - c.out_sent < chargen_chunk) {
      // RFC 864: "a stream of data is sent out the connection" until the client ends it.
      for (std::size_t i = 0; i < chargen_chunk; ++i) {
        c.out += chargen_stream_byte(c.chargen_offset++);
      }
    }
    if (!flush(c)) return;
    const bool all_sent = c.out_sent == c.out.size();
    switch (c.service) {
      case echo:  // RFC 862: until the client ends it, with everything echoed
        if (c.peer_done && all_sent) return close_now(c);
        break;
      case daytime:
        if (all_sent) return begin_close(c);
        break;
      default:  // discard, chargen: until the client's FIN
        if (c.peer_done) return close_now(c);
        break;
    }
    // Both directions shut (poll(2)): nothing queued can reach the client any more.
    if (revents & POLLHUP) close_now(c);
  }

  // Reads what the client sent: kept to be echoed, thrown away by the other services.
  void receive(Connection& c) {
    while (!c.peer_done && (c.service != echo || c.out.size() < max_pending)) {
      const ssize_t n = tapir::recv(c.fd, buffer_.data(), buffer_.size(), 0);
      if (n > 0) {
        if (c.service == echo) c.out.append(buffer_.data(), static_cast<std::size_t>(n));
      } else if (n == 0) {
        c.peer_done = true;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      } else {
        return close_now(c);  // ECONNRESET, ...
      }
    }
  }

  // Sends what is queued until the socket is full; false if the connection was closed.
  bool flush(Connection& c) {
    while (c.out_sent < c.out.size()) {
      const ssize_t n =
          tapir::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) {
        close_now(c);  // EPIPE, ECONNRESET: the client went away
        return false;
      }
      c.out_sent += static_cast<std::size_t>(n);
    }
    if (c.out_sent == c.out.size()) {
      c.out.clear();
      c.out_sent = 0;
    }
    return true;
  }

  // A close with the client's bytes unread would send a reset (RFC 1122 §4.2.2.13), which may
  // destroy daytime's line before the client reads it; so FIN first, then read until theirs.
  void begin_close(Connection& c) {
    if (c.peer_done) return close_now(c);
    tapir::shutdown(c.fd, SHUT_WR);
    c.closing = true;
    c.linger_until = Clock::now() + linger_time;
  }

  void linger(Connection& c) {
    for (;;) {
      const ssize_t n = tapir::recv(c.fd, buffer_.data(), buffer_.size(), 0);
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      return close_now(c);  // their FIN, or an error
    }
  }

  static void close_now(Connection& c) {
    if (c.dead) return;
    tapir::close(c.fd);
    c.dead = true;
  }

  std::array<int, count> listeners_{-1, -1, -1, -1};
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<char> buffer_ = std::vector<char>(64 * 1024);
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  tapir::OptionParser parser(
      "tapird",
      "Runs the tapir TCP/IP stack as a host: it answers ARP and ping, serves echo, discard,\n"
      "daytime and chargen on UDP and TCP, serves a directory over HTTP with --http, and\n"
      "forwards between interfaces with --forward.");
  bool services = true;
  std::optional<tapir::http::ServerConfig> http;
  std::optional<std::uint16_t> http_port;
  parser.add_flag("--no-services",
                  "do not run the echo, discard, daytime and chargen services (UDP and TCP)",
                  [&services] { services = false; });
  parser.add_option("--http", "DIR", "serve the files under DIR over HTTP/1.1 (GET, HEAD)",
                    [&http](std::string_view v) -> std::optional<std::string> {
                      std::error_code ec;
                      if (v.empty() || !std::filesystem::is_directory(v, ec)) {
                        return tapir::OptionParser::expected("a directory", v);
                      }
                      http.emplace();
                      http->root = std::string(v);
                      return std::nullopt;
                    });
  parser.add_option("--http-port", "N", "the TCP port of --http (80)",
                    tapir::port_check([&http_port](std::uint16_t p) { http_port = p; }));
  const tapir::Options options = parser.parse_or_exit(argc, argv);
  if (http_port && !http) {
    std::fprintf(stderr, "tapird: --http-port: expected --http DIR with it\n");
    return 2;
  }
  if (http && http_port) http->port = *http_port;

  const std::unique_ptr<tapir::Host> host = tapir::start_host("tapird", options);
  if (!host) return 1;

  UdpServices udp;
  TcpServices tcp;
  std::optional<tapir::http::Server> http_server;
  auto fail = [&](const std::string& error) {
    std::fprintf(stderr, "tapird: %s\n", error.c_str());
    udp.stop();
    tcp.stop();
    if (http_server) http_server->stop();
    host->stop();
    return 1;
  };
  if (services) {
    if (const std::string error = udp.open(); !error.empty()) return fail(error);
    udp.start();
    // The UDP services do not depend on TCP: a stack without it (SOCK_STREAM refused) still
    // serves them, and says once why the TCP ones are missing.
    if (const std::string error = tcp.open(); !error.empty()) {
      std::fprintf(stderr, "tapird: warning: %s; TCP services off\n", error.c_str());
    } else {
      tcp.start();
    }
  }
  if (http) {
    http_server.emplace(*http);
    if (const std::string error = http_server->open(); !error.empty()) return fail(error);
    http_server->start();
  }
  tapir::print_ready_line(*host);

  std::optional<std::string> failure;
  {
    tapir::StopSignals stop(*host);
    stop.wait();
    failure = stop.failure();
  }
  if (failure) std::fprintf(stderr, "tapird: %s\n", failure->c_str());

  udp.stop();
  tcp.stop();
  if (http_server) http_server->stop();
  host->stop();
  if (options.stats()) host->print_stats(std::cout);
  return failure ? 1 : 0;
}
