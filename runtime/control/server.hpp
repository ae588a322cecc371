// ControlServer: the UNIX stream socket /run/tapir/NAME.sock that tapirctl talks to. One request
// line per connection, one reply, then close (docs/TAPIRCTL.md). It owns no thread: the Host's
// event loop polls fd() and calls serve_one() when it is readable.
#pragma once

#include <functional>
#include <string>

namespace tapir::runtime {

class ControlServer {
 public:
  // Answers one request line (without its newline) with the reply text.
  using Handler = std::function<std::string(const std::string& request)>;

  // Binds and listens at dir/name.sock (dir created 0755). Throws std::system_error on failure.
  ControlServer(const std::string& dir, const std::string& name, Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Accepts one waiting client, reads its line (bounded in size and time), replies, closes.
  void serve_one();

 private:
  int fd_ = -1;
  std::string path_;
  Handler handler_;
};

// The directory control sockets live in: $TAPIR_CTL_DIR if set (tests, users without
// /run/tapir), else /run/tapir. tapirctl looks in the same place.
std::string control_dir();

}  // namespace tapir::runtime
