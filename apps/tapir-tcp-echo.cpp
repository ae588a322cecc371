// tapir-tcp-echo: a TCP echo server (RFC 862) for many clients, and a client that checks each
// echo byte for byte and prints round-trip times, on tapir.
#include <netinet/tcp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "tapir-tcp-echo";

// How long one tapir::poll of the server waits at most: how soon a stop signal is noticed.
constexpr int kTickMs = 200;
// Bytes a client sent that the server has not echoed yet; past this it stops reading that
// client until the echo drains, so a client that sends without reading cannot grow memory.
constexpr std::size_t kMaxPending = 256 * 1024;
constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;

struct Settings {
  std::optional<std::uint16_t> listen_port;  // --listen
  std::optional<sockaddr_in> peer;           // --connect
  long count = 10;
  std::size_t size = 64;
  std::chrono::microseconds timeout{5000000};  // connect, and each echo
  bool quiet = false;
  bool count_given = false;  // --count or --size: only the client takes them
  bool size_given = false;
};

std::string error_text(int error) {
  return std::strerror(error);
}

// --- server -----------------------------------------------------------------------------

struct Client {
  int fd = -1;
  sockaddr_in peer{};
  std::string pending;       // received, not yet all echoed
  std::size_t sent = 0;      // of `pending`
  bool peer_done = false;    // its FIN came: echo what is left, then close
  std::uint64_t echoed = 0;  // bytes sent back so far
  bool closed = false;
};

void close_client(Client& c, const std::string& why) {
  if (c.closed) return;
  tapir::close(c.fd);
  c.closed = true;
  std::printf("closed %s after %llu bytes echoed%s%s\n", tapir::address_text(c.peer).c_str(),
              static_cast<unsigned long long>(c.echoed), why.empty() ? "" : ": ", why.c_str());
  std::fflush(stdout);
}

// The error a POLLERR reports (ECONNRESET, ...), read and cleared with SO_ERROR.
std::string pending_error(int fd) {
  int error = 0;
  socklen_t len = sizeof error;
  if (tapir::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) error = errno;
  return error_text(error);
}

void serve_client(Client& c, short revents) {
  if (revents & (POLLERR | POLLNVAL)) return close_client(c, pending_error(c.fd));
  // RFC 862: "Once a connection is established any data received is sent back."
  char buffer[64 * 1024];
  while ((revents & (POLLIN | POLLHUP)) && !c.peer_done && c.pending.size() < kMaxPending) {
    const ssize_t n = tapir::recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      c.pending.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      c.peer_done = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else {
      return close_client(c, "recv: " + error_text(errno));
    }
  }
  while (c.sent < c.pending.size()) {
    const ssize_t n =
        tapir::send(c.fd, c.pending.data() + c.sent, c.pending.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return close_client(c, "send: " + error_text(errno));
    c.sent += static_cast<std::size_t>(n);
    c.echoed += static_cast<std::uint64_t>(n);
  }
  if (c.sent == c.pending.size()) {
    c.pending.clear();
    c.sent = 0;
  }
  // "...until the calling user terminates the connection": their FIN, once all is echoed. The
  // close sends ours after the queued echo.
  if (c.peer_done && c.pending.empty()) return close_client(c, "");
  // Both directions shut (poll(2)): what is still pending cannot be delivered.
  if (revents & POLLHUP) close_client(c, "connection closed");
}

// Accepts every connection waiting on the non-blocking listener.
void accept_clients(int listen_fd, std::vector<std::unique_ptr<Client>>& clients) {
  for (;;) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const int fd = tapir::accept(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) {
        std::fprintf(stderr, "tapir-tcp-echo: accept: %s\n", std::strerror(errno));
      }
      return;
    }
    // Accepted sockets start blocking, as on Linux; one thread serves all, so none may block.
    if (tapir::fcntl(fd, F_SETFL, tapir::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
      tapir::close(fd);
      continue;
    }
    const int on = 1;  // an echo is a reply: send it now, not after the client's next ACK
    (void)tapir::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto c = std::make_unique<Client>();
    c->fd = fd;
    c->peer = peer;
    std::printf("accepted %s\n", tapir::address_text(peer).c_str());
    std::fflush(stdout);
    clients.push_back(std::move(c));
  }
}

// One thread, tapir::poll over the listener and every client.
int serve_clients(int listen_fd, const tapir::StopSignals& stop) {
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<pollfd> fds;
  while (!stop.stopped()) {
    fds.clear();
    fds.push_back(pollfd{listen_fd, POLLIN, 0});
    for (const auto& c : clients) {
      short events = 0;
      if (!c->peer_done && c->pending.size() < kMaxPending) events |= POLLIN;
      if (c->sent < c->pending.size()) events |= POLLOUT;
      fds.push_back(pollfd{c->fd, events, 0});
    }
    if (tapir::poll(fds.data(), fds.size(), kTickMs) < 0) {
      std::fprintf(stderr, "tapir-tcp-echo: poll: %s\n", std::strerror(errno));
      return 1;
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (fds[i + 1].revents != 0) serve_client(*clients[i], fds[i + 1].revents);
    }
    if (fds[0].revents & POLLIN) accept_clients(listen_fd, clients);
    std::erase_if(clients, [](const auto& c) { return c->closed; });
  }
  for (auto& c : clients) close_client(*c, "stopping");
  return 0;
}

// --- client -----------------------------------------------------------------------------

// Message `seq`'s bytes: a counter that starts at `seq`, so an echo of the wrong message, or
// bytes shifted by one, never compare equal.
void fill_message(std::vector<std::uint8_t>& message, long seq) {
  for (std::size_t j = 0; j < message.size(); ++j) {
    message[j] = static_cast<std::uint8_t>(static_cast<std::size_t>(seq) + j);
  }
}

// Sends `message` and reads as many bytes back, at once: a message larger than the socket
// buffers would deadlock a client that sent it all before reading. Returns "" or an error line.
std::string exchange(int fd, const std::vector<std::uint8_t>& message,
                     std::vector<std::uint8_t>& reply, long seq, const Settings& settings,
                     const tapir::StopSignals& stop) {
  const std::string peer = tapir::address_text(*settings.peer);
  const Clock::time_point deadline = Clock::now() + settings.timeout;
  std::size_t sent = 0;
  std::size_t got = 0;
  while (got < message.size()) {
    const short events = static_cast<short>(POLLIN | (sent < message.size() ? POLLOUT : 0));
    const int revents = tapir::wait_for(fd, events, deadline, stop);
    if (revents < 0) return std::string("poll: ") + std::strerror(errno);
    if (revents == 0) {
      if (stop.stopped()) return "stopped";
      char text[160];
      std::snprintf(text, sizeof text,
                    "no echo of message %ld from %s within %g s (got %zu of %zu bytes)", seq,
                    peer.c_str(), static_cast<double>(settings.timeout.count()) / 1e6, got,
                    message.size());
      return text;
    }
    if ((revents & POLLOUT) && sent < message.size()) {
      const ssize_t n = tapir::send(fd, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return std::string("send: ") + std::strerror(errno);
      }
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
      // At most the rest of this echo: nothing else should come, and it is checked below.
      const ssize_t n = tapir::recv(fd, reply.data() + got, message.size() - got, 0);
      if (n == 0) {
        return "connection closed by " + peer + " after " + std::to_string(got) + " of " +
               std::to_string(message.size()) + " bytes of echo " + std::to_string(seq);
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return std::string("recv: ") + std::strerror(errno);
      }
      if (n > 0) got += static_cast<std::size_t>(n);
    }
  }
  if (reply != message) {
    const auto diff = std::mismatch(message.begin(), message.end(), reply.begin());
    const std::size_t at = static_cast<std::size_t>(diff.first - message.begin());
    char text[160];
    std::snprintf(text, sizeof text, "echo %ld differs at byte %zu: sent 0x%02x, got 0x%02x", seq,
                  at, *diff.first, *diff.second);
    return text;
  }
  return "";
}

// Ends the connection cleanly: our FIN, then the server's (recv returns 0), then close; a
// close with the server's echo still unread would reset the connection instead.
void hang_up(int fd, const Settings& settings, const tapir::StopSignals& stop) {
  tapir::shutdown(fd, SHUT_WR);
  const Clock::time_point deadline = Clock::now() + settings.timeout;
  char buffer[4096];
  while (tapir::wait_for(fd, POLLIN, deadline, stop) > 0) {
    const ssize_t n = tapir::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) break;
  }
  tapir::close(fd);
}

int client(const Settings& settings, const tapir::StopSignals& stop) {
  const int fd = tapir::connect_to(kProgram, *settings.peer, settings.timeout, stop);
  if (fd < 0) return 1;
  const int on = 1;  // each message is a round trip of its own: no waiting to fill a segment
  (void)tapir::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);

  const std::string peer = tapir::address_text(*settings.peer);
  std::vector<std::uint8_t> message(settings.size);
  std::vector<std::uint8_t> reply(settings.size);
  std::vector<double> rtt_ms;
  for (long seq = 1; seq <= settings.count; ++seq) {
    fill_message(message, seq);
    const Clock::time_point start = Clock::now();
    const std::string error = exchange(fd, message, reply, seq, settings, stop);
    if (!error.empty()) {
      if (!stop.stopped()) std::fprintf(stderr, "tapir-tcp-echo: %s\n", error.c_str());
      tapir::close(fd);
      return 1;
    }
    rtt_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!settings.quiet) {
      std::printf("%zu bytes from %s: seq=%ld time=%.3f ms\n", settings.size, peer.c_str(), seq,
                  rtt_ms.back());
      std::fflush(stdout);
    }
  }
  hang_up(fd, settings, stop);

  // mdev as ping(8) computes it: the standard deviation.
  const double n = static_cast<double>(rtt_ms.size());
  double sum = 0;
  double sum_sq = 0;
  for (double t : rtt_ms) {
    sum += t;
    sum_sq += t * t;
  }
  const double avg = sum / n;
  const double mdev = std::sqrt(std::max(0.0, sum_sq / n - avg * avg));
  std::printf("%ld message%s of %zu bytes echoed back identical\n", settings.count,
              settings.count == 1 ? "" : "s", settings.size);
  std::printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n",
              *std::min_element(rtt_ms.begin(), rtt_ms.end()), avg,
              *std::max_element(rtt_ms.begin(), rtt_ms.end()), mdev);
  return 0;
}

// Listens on --listen PORT, says it is ready, and echoes to every client until stopped.
int server(std::uint16_t port, tapir::Host& host, const tapir::StopSignals& stop) {
  const int fd = tapir::listen_on(kProgram, port, 128);
  if (fd < 0) return 1;
  tapir::print_ready_line(host);
  const int result = serve_clients(fd, stop);
  tapir::close(fd);
  return result;
}

tapir::Options parse_command_line(int argc, char** argv, Settings& settings) {
  tapir::OptionParser parser(
      kProgram,
      "A TCP echo server (--listen PORT) for any number of clients, or a client (--connect\n"
      "HOST:PORT) that sends --count messages of --size bytes, checks each echo byte for byte\n"
      "and prints round-trip times; exit 1 on a difference or an error.");
  parser.add_option("--listen", "PORT", "serve: echo back whatever comes to TCP PORT",
                    tapir::port_check([&](std::uint16_t port) { settings.listen_port = port; }));
  parser.add_option(
      "--connect", "HOST:PORT", "client: connect to the echo server at HOST:PORT",
      tapir::address_port_check("an IPv4 address and port like 10.0.0.1:7",
                                [&](const sockaddr_in& peer) { settings.peer = peer; }));
  parser.add_option("-c, --count", "N", "client: send N messages, one at a time (10)",
                    tapir::count_check([&](long n) {
                      settings.count = n;
                      settings.count_given = true;
                    }));
  parser.add_option("-s, --size", "BYTES", "client: bytes in each message, 1..16777216 (64)",
                    tapir::integer_check(1, kMaxMessage, "a size 1..16777216", [&](long n) {
                      settings.size = static_cast<std::size_t>(n);
                      settings.size_given = true;
                    }));
  parser.add_option(
      "--timeout", "S", "client: seconds to wait for the connection and for each echo (5)",
      tapir::seconds_check(0.001, 3600, "seconds from 0.001 to 3600 like 0.5",
                           [&](std::chrono::microseconds s) { settings.timeout = s; }));
  parser.add_flag("-q, --quiet", "client: print the summary only, not a line per message",
                  [&] { settings.quiet = true; });
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const tapir::Options options = parse_command_line(argc, argv, settings);
  auto usage_error = [](const char* message) {
    std::fprintf(stderr, "tapir-tcp-echo: %s\n", message);
    return 2;
  };
  if (settings.listen_port.has_value() == settings.peer.has_value()) {
    return usage_error("expected one of --listen PORT or --connect HOST:PORT (try --help)");
  }
  if (settings.listen_port && (settings.count_given || settings.size_given)) {
    return usage_error("--count and --size are for --connect; the server sends back what it gets");
  }

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;

  auto serve_or_connect = [&](const tapir::StopSignals& stop) {
    return settings.listen_port ? server(*settings.listen_port, *host, stop)
                                : client(settings, stop);
  };
  return tapir::run_until_stopped(kProgram, *host, options, -1, serve_or_connect);
}
