// tapird's echo, discard, daytime and chargen on UDP: four sockets, one thread polling them.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <tapir/socket.hpp>

#include "services.hpp"

namespace tapird {

class UdpServices {
 public:
  // Binds the four sockets (on INADDR_ANY). Returns an error line, or "" when all are open.
  std::string open();
  void start();
  // Closing the sockets wakes the thread's tapir::poll (POLLNVAL), and it sees stopping_.
  void stop();

 private:
  // A burst to one service gets at most this many answers before the others get a turn.
  static constexpr int batch = 64;
  // The largest UDP payload (65535 less the IP and UDP headers).
  static constexpr std::size_t max_datagram = 65507;

  void run();
  void serve(Service service);
  // A reply that cannot go (no route back, say) is simply not sent: UDP promises nothing.
  static void reply(int fd, const sockaddr_in& to, const void* data, std::size_t len);

  std::array<pollfd, kServiceCount> fds_{pollfd{-1, 0, 0}, pollfd{-1, 0, 0}, pollfd{-1, 0, 0},
                                         pollfd{-1, 0, 0}};
  std::vector<char> buffer_ = std::vector<char>(max_datagram);
  Chargen chargen_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tapird
