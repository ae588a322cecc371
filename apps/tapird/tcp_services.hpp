// tapird's echo, discard, daytime and chargen on TCP: four listeners and every connection, one
// thread polling them all.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "services.hpp"

namespace tapird {

class TcpServices {
 public:
  ~TcpServices() { stop(); }

  // Opens the four listeners (on INADDR_ANY). Returns an error line, or "" when all are open.
  std::string open();
  void start();
  // The thread sees stopping_ within one poll tick, then closes everything.
  void stop();

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
  std::string close_listeners(const std::string& prefix);
  static short events_for(const Connection& c);
  void run();
  void accept_all(Service service);
  void serve(Connection& c, short revents);
  void receive(Connection& c);
  bool flush(Connection& c);
  void begin_close(Connection& c);
  void linger(Connection& c);
  static void close_now(Connection& c);

  std::array<int, kServiceCount> listeners_{-1, -1, -1, -1};
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<char> buffer_ = std::vector<char>(64 * 1024);
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tapird
