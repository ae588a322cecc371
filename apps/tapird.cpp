// tapird: the tapir stack as a host on a TAP or an interface; it answers ARP and ping and runs
// the classic small UDP services (echo, discard, daytime, chargen).
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

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

}  // namespace

int main(int argc, char** argv) {
  tapir::OptionParser parser(
      "tapird",
      "Runs the tapir TCP/IP stack as a host: it answers ARP and ping, serves UDP echo, "
      "discard, daytime and chargen, and forwards between interfaces with --forward.");
  bool services = true;
  parser.add_flag("--no-services", "do not run the UDP echo, discard, daytime and chargen services",
                  [&services] { services = false; });
  const tapir::Options options = parser.parse_or_exit(argc, argv);

  const std::unique_ptr<tapir::Host> host = tapir::start_host("tapird", options);
  if (!host) return 1;

  UdpServices udp;
  if (services) {
    if (const std::string error = udp.open(); !error.empty()) {
      std::fprintf(stderr, "tapird: %s\n", error.c_str());
      udp.stop();
      host->stop();
      return 1;
    }
    udp.start();
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
  host->stop();
  if (options.stats) host->print_stats(std::cout);
  return failure ? 1 : 0;
}
