// TcpPair: two stacks on a memory link, with helpers to open TCP connections and move data.
#include "support/tcp_pair.hpp"

#include <arpa/inet.h>

#include <cerrno>

namespace tapir::test {

TcpPair::TcpPair(const LinkConfig& link, StackConfig a_config, StackConfig b_config) {
  auto [pa, pb] = MemoryLink::pair(link);
  port_a_ = pa.get();
  port_b_ = pb.get();
  a_config.seed = 0xa11ce;
  b_config.seed = 0xb0b;
  a_ = net_.add_host("10.0.0.1/24", "02:00:00:00:00:01", std::move(pa), a_config);
  b_ = net_.add_host("10.0.0.2/24", "02:00:00:00:00:02", std::move(pb), b_config);
  net_.run_for(Duration{100'000});  // the start-up announcements
}

int TcpPair::listen(Stack& stack, std::uint16_t port, int backlog) {
  sock::Api& api = stack.sockets();
  const int fd = api.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  if (api.bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) return -1;
  if (api.listen(fd, backlog) != 0) return -1;
  return fd;
}

int TcpPair::connect(Stack& stack, const char* addr, std::uint16_t port) {
  sock::Api& api = stack.sockets();
  const int fd = api.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, addr, &sin.sin_addr);
  if (api.connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != -EINPROGRESS) return -1;
  return fd;
}

bool TcpPair::run_until(const std::function<bool()>& done, Duration limit) {
  // done() is asked once per step (it may consume what it checks, like an error).
  const Instant end = net_.now() + limit;
  for (;;) {
    if (done()) return true;
    if (net_.now() >= end) return false;
    net_.run_for(Duration{1000});
  }
}

std::pair<int, int> TcpPair::establish(std::uint16_t port) {
  const int listener = listen(b(), port);
  const int client = connect(a(), "10.0.0.2", port);
  int server = -1;
  run_until([&] {
    if (server < 0) server = api_b().accept(listener, nullptr, nullptr);
    return server >= 0 && api_a().connect_status(client) == 0;
  });
  return {client, server};
}

std::vector<std::uint8_t> TcpPair::transfer(Stack& from, int from_fd, Stack& to, int to_fd,
                                            const std::vector<std::uint8_t>& data, Duration limit,
                                            bool close_after) {
  std::vector<std::uint8_t> got;
  std::size_t sent = 0;
  bool closed = false;
  bool eof = false;
  std::vector<std::uint8_t> buffer(65536);
  run_until(
      [&] {
        while (sent < data.size()) {
          const ssize_t n =
              from.sockets().sendto(from_fd, data.data() + sent, data.size() - sent, 0, nullptr, 0);
          if (n <= 0) break;
          sent += static_cast<std::size_t>(n);
        }
        if (sent == data.size() && close_after && !closed) {
          from.sockets().shutdown(from_fd, SHUT_WR);
          closed = true;
        }
        for (;;) {
          const ssize_t n =
              to.sockets().recvfrom(to_fd, buffer.data(), buffer.size(), 0, nullptr, nullptr);
          if (n == 0) eof = true;
          if (n <= 0) break;
          got.insert(got.end(), buffer.begin(), buffer.begin() + n);
        }
        return close_after ? eof : got.size() >= data.size();
      },
      limit);
  return got;
}

}  // namespace tapir::test
