// tcp-client: the smallest TCP client on tapir, built out of tree against an installed tapir
// (CMake's find_package or pkg-config). It connects to --server ADDR:PORT, sends --message,
// half-closes, and prints everything the server sends back until it closes.
//
//   tcp-client --tap tap1 --ip 10.0.0.3/24 --server 10.0.0.1:7 --message hello
#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  sockaddr_in server{};
  std::string message = "hello from tapir\n";
  tapir::OptionParser parser("tcp-client", "Sends a message over TCP and prints the answer.");
  parser.add_option("--server", "ADDR:PORT", "the server (required)",
                    tapir::address_port_check("ADDR:PORT like 10.0.0.1:7",
                                              [&](const sockaddr_in& a) { server = a; }));
  parser.add_option("--message", "TEXT", "what to send", [&](std::string_view v) {
    message = std::string(v) + "\n";
    return std::optional<std::string>();
  });
  const tapir::Options options = parser.parse_or_exit(argc, argv);
  if (server.sin_port == 0) {
    std::fprintf(stderr, "tcp-client: --server: expected ADDR:PORT\n");
    return 2;
  }

  // Opens the TAP and starts the stack's thread; nullptr (after one line on stderr) if it cannot.
  const std::unique_ptr<tapir::Host> host = tapir::start_host("tcp-client", options);
  if (!host) return 1;

  const int fd = tapir::socket(AF_INET, SOCK_STREAM, 0);
  const timeval ten_seconds{10, 0};  // bounds the connect and every read
  tapir::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &ten_seconds, sizeof ten_seconds);
  tapir::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
  if (tapir::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
    std::fprintf(stderr, "tcp-client: connect: %s\n", std::strerror(errno));
    return 1;
  }
  tapir::send(fd, message.data(), message.size(), 0);
  tapir::shutdown(fd, SHUT_WR);  // our FIN: the server sees the end of the message

  char buf[4096];
  ssize_t n = 0;
  while ((n = tapir::recv(fd, buf, sizeof buf, 0)) > 0) std::fwrite(buf, 1, n, stdout);
  if (n < 0) std::fprintf(stderr, "tcp-client: recv: %s\n", std::strerror(errno));

  // A linger of 5 s: close returns once the server has acknowledged everything.
  const linger wait{1, 5};
  tapir::setsockopt(fd, SOL_SOCKET, SO_LINGER, &wait, sizeof wait);
  tapir::close(fd);
  host->stop();
  return n < 0 ? 1 : 0;
}
