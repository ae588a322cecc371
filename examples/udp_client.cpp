// udp-client: the smallest UDP client on tapir, built out of tree against an installed tapir.
// It sends --message to --server ADDR:PORT and prints the first datagram that comes back
// (waiting at most 5 s, retrying once a second: UDP may lose the first try).
//
//   udp-client --tap tap1 --ip 10.0.0.3/24 --server 10.0.0.1:7 --message hello
#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

#include <arpa/inet.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  sockaddr_in server{};
  std::string message = "hello from tapir";
  tapir::OptionParser parser("udp-client", "Sends a datagram and prints the answer.");
  parser.add_option("--server", "ADDR:PORT", "the server (required)",
                    tapir::address_port_check("ADDR:PORT like 10.0.0.1:7",
                                              [&](const sockaddr_in& a) { server = a; }));
  parser.add_option("--message", "TEXT", "what to send", [&](std::string_view v) {
    message = v;
    return std::optional<std::string>();
  });
  const tapir::Options options = parser.parse_or_exit(argc, argv);
  if (server.sin_port == 0) {
    std::fprintf(stderr, "udp-client: --server: expected ADDR:PORT\n");
    return 2;
  }

  const std::unique_ptr<tapir::Host> host = tapir::start_host("udp-client", options);
  if (!host) return 1;

  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  const timeval one_second{1, 0};
  tapir::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &one_second, sizeof one_second);
  char buf[65536];
  for (int attempt = 0; attempt < 5; ++attempt) {
    tapir::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&server),
                  sizeof server);
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n =
        tapir::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n >= 0) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
      std::printf("%.*s (from %s:%d)\n", static_cast<int>(n), buf, text, ntohs(from.sin_port));
      tapir::close(fd);
      return 0;
    }
    if (errno != EAGAIN) break;  // EAGAIN: a second without an answer; send again
  }
  std::fprintf(stderr, "udp-client: no answer: %s\n", std::strerror(errno));
  tapir::close(fd);
  return 1;
}
