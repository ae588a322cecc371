// fork-child: what a child may do with a tapir socket it inherits (docs/PRELOAD.md, "fork and
// exec"), as an ordinary Linux program run under tapir-run. It connects to an echo server,
// forks, and the child checks that its calls on the inherited socket fail at once with
// ENETDOWN (no hang), that close() works and that a new AF_INET socket is refused the same
// way; with "exec" the child instead runs a shell that reads the inherited descriptor (end of
// file). Then the parent, whose stack it is, uses the socket as before.
//
//   fork-child MODE ADDR PORT     MODE: calls or exec
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

int failures = 0;

void expect_errno(const char* what, long result, int expected) {
  const int error = errno;
  if (result == -1 && error == expected) {
    std::printf("child: %s: %s, as expected\n", what, std::strerror(error));
  } else {
    std::printf("child: %s: returned %ld (%s), expected %s\n", what, result,
                result == -1 ? std::strerror(error) : "no error", std::strerror(expected));
    ++failures;
  }
}

int child_calls(int sock) {
  alarm(10);  // a hang is the failure this guards against
  char buf[16];
  expect_errno("read", ::read(sock, buf, sizeof buf), ENETDOWN);
  expect_errno("send", ::send(sock, "x", 1, MSG_NOSIGNAL), ENETDOWN);
  expect_errno("socket(AF_INET)", ::socket(AF_INET, SOCK_STREAM, 0), ENETDOWN);
  const int unix_sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  std::printf("child: socket(AF_UNIX): %s\n", unix_sock >= 0 ? "works" : std::strerror(errno));
  if (unix_sock < 0) ++failures;
  if (::close(sock) == 0) {
    std::printf("child: close: works\n");
  } else {
    std::printf("child: close: %s\n", std::strerror(errno));
    ++failures;
  }
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: fork-child calls|exec ADDR PORT\n");
    return 2;
  }
  const std::string_view mode = argv[1];
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(static_cast<unsigned short>(std::atoi(argv[3])));
  ::inet_pton(AF_INET, argv[2], &peer.sin_addr);
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  if (sock < 0 || ::connect(sock, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) {
    std::perror("fork-child: connect");
    return 1;
  }
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork-child: fork");
    return 1;
  }
  if (child == 0) {
    if (mode == "calls") std::_Exit(child_calls(sock));
    // The shell reads the inherited descriptor as descriptor 5 until end of file.
    ::dup2(sock, 5);
    ::execl("/bin/sh", "sh", "-c",
            "timeout 10 cat <&5; echo \"child: cat read to the end, status $?\"",
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  alarm(20);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::printf("parent: child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  // The parent's socket is untouched: an echo through it.
  char buf[16] = {};
  if (::send(sock, "hello", 5, 0) != 5 || ::recv(sock, buf, 5, MSG_WAITALL) != 5) {
    std::perror("fork-child: parent's echo");
    return 1;
  }
  ::shutdown(sock, SHUT_WR);
  std::printf("parent: echo %s\n", buf);
  ::close(sock);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
