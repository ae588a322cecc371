// An HTTP/1.1 static file server on tapir sockets, one thread polling every client; shared by
// tapir-httpd and tapird --http.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http_request.hpp"

namespace tapir::http {

// The Content-Type for a file, by its extension (case-insensitive): text/html for .html and
// .htm, ..., application/octet-stream for anything unknown.
std::string_view content_type_for(const std::filesystem::path& file);

// Where the decoded request path `path` ("/docs/a.html") is under `root`, which must be
// canonical (std::filesystem::canonical). nullopt when the path does not start with '/', has a
// ".." segment, or leads, through symbolic links, outside `root`: a request never reads a file
// outside the served directory. The file need not exist.
std::optional<std::filesystem::path> resolve_path(const std::filesystem::path& root,
                                                  std::string_view path);

struct ServerConfig {
  std::filesystem::path root;  // the directory served
  std::uint16_t port = 80;
  // A keep-alive connection with no request, or a client that stops reading, is closed after
  // this long.
  std::chrono::milliseconds idle_timeout{30000};
  bool verbose = false;  // one line per request on stdout
};

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Checks the directory and opens the listening socket on INADDR_ANY. Returns an error line
  // ("http port 80: socket: Protocol not supported"), or "" when the server can start.
  std::string open();
  // Serves on a thread of its own until stop().
  void start();
  // Ends the thread (within one poll tick) and closes every connection.
  void stop();

 private:
  struct Connection;

  void run();
  void accept_all();
  void handle(Connection& c, short revents);
  void read_input(Connection& c);
  void advance(Connection& c);
  bool next_request(Connection& c);
  void respond(Connection& c, const Request& request);
  void respond_error(Connection& c, int status, bool head_only, bool keep_alive,
                     std::string_view log_line);
  bool send_pending(Connection& c);
  void begin_close(Connection& c);
  void linger(Connection& c);
  void drop(Connection& c);
  void log(const Connection& c, std::string_view request_line, int status, std::uint64_t length);

  ServerConfig config_;
  std::filesystem::path root_;  // config_.root, canonical
  int listen_fd_ = -1;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tapir::http
