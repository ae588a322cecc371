// The control socket: one request line in, the handler's reply out, then the connection closes.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/control/server.hpp"

using tapir::runtime::ControlServer;

namespace {

std::string ask(const std::string& path, const std::string& request, ControlServer& server) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  server.serve_one();  // the connection and its line are queued: this answers without waiting
  std::string reply;
  char buf[256];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, n);
  ::close(fd);
  return reply;
}

}  // namespace

TEST_CASE("the control server answers one line per connection and removes its socket",
          "[control]") {
  char dir_template[] = "/tmp/tapir-ctl-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::string dir = std::string(dir_template) + "/run";
  const std::string path = dir + "/t1.sock";
  {
    ControlServer server(dir, "t1", [](const std::string& r) { return "got [" + r + "]\n"; });
    CHECK(server.path() == path);
    CHECK(::access(path.c_str(), F_OK) == 0);
    CHECK(ask(path, "stats\n", server) == "got [stats]\n");
    CHECK(ask(path, "route add 10.9.0.0/16 via 10.0.0.1\nignored\n", server) ==
          "got [route add 10.9.0.0/16 via 10.0.0.1]\n");
    // A second program with the same name is refused while the first one serves.
    CHECK_THROWS_WITH(ControlServer(dir, "t1", [](const std::string&) { return ""; }),
                      Catch::Contains("another program has this --name"));
  }
  CHECK(::access(path.c_str(), F_OK) != 0);
  ::rmdir(dir.c_str());
  ::rmdir(dir_template);
}
