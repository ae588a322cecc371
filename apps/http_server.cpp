// An HTTP/1.1 static file server: GET and HEAD over a directory, keep-alive and pipelining, on
// one thread that polls every client's non-blocking tapir socket.
#include "http_server.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

#include <tapir/app.hpp>
#include <tapir/socket.hpp>

namespace tapir::http {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// How long one tapir::poll waits at most: how soon stop() and the timeouts are noticed.
constexpr int kTickMs = 200;
// A file is sent in pieces of this size, read from it as the socket takes them, so a 50 MB file
// costs one chunk of memory per client, not 50 MB.
constexpr std::size_t kChunk = 64 * 1024;
// Received bytes not yet answered: a head being read, or pipelined requests waiting their turn.
// Past this the connection is not read until its responses catch up.
constexpr std::size_t kMaxInput = 64 * 1024;
// Clients served at once; more wait in the listen backlog. tapir has 1024 sockets per Host.
constexpr std::size_t kMaxConnections = 512;
// How long a closing connection reads, waiting for the client's FIN (see begin_close).
constexpr auto kLinger = std::chrono::seconds(2);

// RFC 9110 §5.6.7 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (the C locale's names).
std::string http_date(std::time_t t) {
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(text, n);
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Internal Server Error";
  }
}

// The status line and the fields every response carries; `extra` are whole "Name: value"
// lines without their CRLF.
std::string response_head(int status, std::string_view content_type, std::uint64_t length,
                          const std::vector<std::string>& extra) {
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status));
  head += "\r\nDate: " + http_date(std::time(nullptr));
  head += "\r\nServer: tapir";
  head += "\r\nContent-Type: " + std::string(content_type);
  head += "\r\nContent-Length: " + std::to_string(length);
  for (const std::string& line : extra) head += "\r\n" + line;
  head += "\r\n\r\n";
  return head;
}

// What a response says about the connection (RFC 9112 §9.3, §9.6): "close" when it ends after
// this response; "keep-alive" for an HTTP/1.0 client that asked to keep it.
void add_connection_field(std::vector<std::string>& extra, bool keep_alive, int minor_version) {
  if (!keep_alive) {
    extra.emplace_back("Connection: close");
  } else if (minor_version == 0) {
    extra.emplace_back("Connection: keep-alive");
  }
}

// The first line of a request as the log shows it: at most 200 bytes, made printable.
std::string first_line(std::string_view text) {
  text = text.substr(0, std::min(text.find_first_of("\r\n"), std::size_t{200}));
  return tapir::printable(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

}  // namespace

std::string_view content_type_for(const fs::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> types{{
      {".html", "text/html"},
      {".htm", "text/html"},
      {".txt", "text/plain"},
      {".css", "text/css"},
      {".js", "text/javascript"},  // RFC 9239
      {".json", "application/json"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".svg", "image/svg+xml"},
      {".pdf", "application/pdf"},
      {".bin", "application/octet-stream"},
  }};
  std::string extension = file.extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [ext, type] : types) {
    if (extension == ext) return type;
  }
  return "application/octet-stream";
}

std::optional<fs::path> resolve_path(const fs::path& root, std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  fs::path relative;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const std::string_view segment = path.substr(0, path.find('/'));
    path.remove_prefix(segment.size());
    if (segment.empty() || segment == ".") continue;
    // Refused outright rather than resolved: "/a/../b" names nothing a link on the site needs.
    if (segment == "..") return std::nullopt;
    relative /= segment;
  }
  // Symbolic links are followed, then the result must still be under root: a link inside the
  // directory that points outside it serves nothing.
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(root / relative, ec);
  if (ec) return std::nullopt;
  // Component by component, so that /srv/www-old is not taken to be inside /srv/www.
  auto r = root.begin();
  auto p = resolved.begin();
  for (; r != root.end(); ++r, ++p) {
    if (p == resolved.end() || *p != *r) return std::nullopt;
  }
  return resolved;
}

// One client: what it sent that is not answered yet, and the response being sent.
struct Server::Connection {
  int fd = -1;
  sockaddr_in peer{};
  std::string in;               // received bytes not yet parsed
  std::uint64_t body_left = 0;  // body bytes of the last request still to skip
  bool peer_done = false;       // its FIN came (recv returned 0)
  bool responding = false;      // `out` (then the file) is being sent
  std::string out;              // the head, an error body, or the file's current chunk
  std::size_t out_sent = 0;     // of `out`
  int file = -1;                // a kernel descriptor, never given to tapir calls
  std::uint64_t file_left = 0;  // file bytes not yet read into `out`
  off_t file_offset = 0;        // where the next chunk starts
  bool close_after = false;     // the connection ends with this response
  bool closing = false;         // our FIN is sent; reading until theirs (begin_close)
  bool dead = false;            // closed; removed after this poll round
  Clock::time_point deadline;   // idle timeout, or the end of the linger when closing
};

Server::Server(ServerConfig config) : config_(std::move(config)) {}

Server::~Server() {
  stop();
}

std::string Server::open() {
  std::error_code ec;
  root_ = fs::canonical(config_.root, ec);
  if (ec) return "http: " + config_.root.string() + ": " + ec.message();
  if (!fs::is_directory(root_, ec)) return "http: " + config_.root.string() + ": not a directory";

  const std::string where = "http port " + std::to_string(config_.port) + ": ";
  auto fail = [&](const char* call) {
    const std::string error = where + call + ": " + std::strerror(errno);
    if (listen_fd_ >= 0) tapir::close(listen_fd_);
    listen_fd_ = -1;
    return error;
  };
  // Non-blocking: the loop accepts until EAGAIN after poll says the listener is readable.
  listen_fd_ = tapir::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return fail("socket");
  // A restarted server binds at once rather than wait for old connections' TIME-WAIT.
  const int on = 1;
  if (tapir::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
    return fail("setsockopt SO_REUSEADDR");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(config_.port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (tapir::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return fail("bind");
  }
  if (tapir::listen(listen_fd_, 128) < 0) return fail("listen");
  return "";
}

void Server::start() {
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Server::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& c : connections_) drop(*c);
  connections_.clear();
  if (listen_fd_ >= 0) tapir::close(listen_fd_);
  listen_fd_ = -1;
}

void Server::run() {
  std::vector<pollfd> fds;
  while (!stopping_) {
    fds.clear();
    // At the limit the listener is left out: new clients wait in the backlog.
    const bool room = connections_.size() < kMaxConnections;
    fds.push_back(pollfd{room ? listen_fd_ : -1, POLLIN, 0});
    for (const auto& c : connections_) {
      short events = POLLIN;
      if (!c->closing) {
        events = 0;
        if (!c->peer_done && c->in.size() < kMaxInput) events |= POLLIN;
        if (c->responding) events |= POLLOUT;
      }
      fds.push_back(pollfd{c->fd, events, 0});
    }
    if (tapir::poll(fds.data(), fds.size(), kTickMs) < 0) break;  // the Host stopped

    for (std::size_t i = 0; i < connections_.size(); ++i) {
      if (fds[i + 1].revents != 0) handle(*connections_[i], fds[i + 1].revents);
    }
    if (fds[0].revents & POLLIN) accept_all();
    const auto now = Clock::now();
    for (auto& c : connections_) {
      if (!c->dead && now >= c->deadline) drop(*c);
    }
    std::erase_if(connections_, [](const auto& c) { return c->dead; });
  }
}

void Server::accept_all() {
  while (connections_.size() < kMaxConnections) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const int fd = tapir::accept(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len);
    if (fd < 0) return;  // EAGAIN: none left; ECONNABORTED, EMFILE: try at the next round
    // An accepted socket starts blocking, as on Linux; this thread must never block on one.
    if (tapir::fcntl(fd, F_SETFL, tapir::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
      tapir::close(fd);
      continue;
    }
    // Responses are written whole, so Nagle's algorithm would only hold back the last small
    // segment of each until the client's (delayed) ACK of the previous one. Best effort.
    const int on = 1;
    (void)tapir::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->peer = peer;
    c->deadline = Clock::now() + config_.idle_timeout;
    connections_.push_back(std::move(c));
  }
}

void Server::handle(Connection& c, short revents) {
  if (revents & (POLLERR | POLLNVAL)) {  // reset, or another error: nothing more can be sent
    drop(c);
    return;
  }
  if (c.closing) {
    linger(c);
  } else {
    if (revents & (POLLIN | POLLHUP)) read_input(c);
    if (!c.dead) advance(c);
  }
  // POLLHUP: both directions are shut (poll(2) on a TCP socket), so nothing still queued for
  // this client can reach it.
  if (!c.dead && (revents & POLLHUP)) drop(c);
}

void Server::read_input(Connection& c) {
  char buffer[16 * 1024];
  while (!c.peer_done && c.in.size() < kMaxInput) {
    const ssize_t n = tapir::recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      c.in.append(buffer, static_cast<std::size_t>(n));
      c.deadline = Clock::now() + config_.idle_timeout;
    } else if (n == 0) {
      c.peer_done = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      drop(c);  // ECONNRESET, ...
      return;
    }
  }
}

// Sends what is pending, then answers the next pipelined request, in order, until the socket
// is full (POLLOUT resumes) or no complete request is left.
void Server::advance(Connection& c) {
  for (;;) {
    if (c.responding) {
      if (!send_pending(c)) return;  // the socket is full, or the connection was dropped
      c.responding = false;
      c.out = std::string();  // an idle keep-alive connection keeps no chunk buffer
      c.out_sent = 0;
      if (c.file >= 0) ::close(c.file);
      c.file = -1;
      if (c.close_after) {
        begin_close(c);
        return;
      }
    }
    if (!next_request(c)) break;
  }
  // After the client's FIN no further request can complete; a partial one is abandoned.
  if (c.peer_done) begin_close(c);
}

bool Server::next_request(Connection& c) {
  if (c.body_left > 0) {  // a body nobody asked for (GET with one, a refused POST): skip it
    const std::size_t skip =
        static_cast<std::size_t>(std::min<std::uint64_t>(c.body_left, c.in.size()));
    c.in.erase(0, skip);
    c.body_left -= skip;
    if (c.body_left > 0) return false;
  }
  if (c.in.empty()) return false;
  ParseResult r = parse_request(c.in);
  switch (r.status) {
    case ParseResult::Status::incomplete:
      return false;
    case ParseResult::Status::error: {
      // The framing of whatever follows is unknown, so the connection ends with this answer.
      const std::string line = first_line(c.in);
      c.in.clear();
      respond_error(c, r.error_status, false, false, line);
      return true;
    }
    case ParseResult::Status::complete:
      c.in.erase(0, r.consumed);
      c.body_left = r.request.content_length;
      respond(c, r.request);
      return true;
  }
  return false;
}

void Server::respond(Connection& c, const Request& request) {
  const std::string line = first_line(request.method + " " + request.target + " HTTP/1." +
                                      std::to_string(request.minor_version));
  const bool head_only = request.method == "HEAD";
  if (request.method != "GET" && !head_only) {
    respond_error(c, 405, false, request.keep_alive, line);
    return;
  }
  std::optional<fs::path> path = resolve_path(root_, request.path);
  std::error_code ec;
  if (path && fs::is_directory(*path, ec)) path = resolve_path(root_, request.path + "/index.html");
  if (!path) {
    respond_error(c, 404, head_only, request.keep_alive, line);
    return;
  }
  // O_NONBLOCK: opening a FIFO someone left in the directory must not hang the server; it is
  // then refused as not a regular file.
  const int file = ::open(path->c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st {};
  if (file < 0 || ::fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
    const int status = file < 0 && errno == EACCES ? 403 : 404;
    if (file >= 0) ::close(file);
    respond_error(c, status, head_only, request.keep_alive, line);
    return;
  }

  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::vector<std::string> extra{"Last-Modified: " + http_date(st.st_mtime)};
  add_connection_field(extra, request.keep_alive, request.minor_version);
  c.out = response_head(200, content_type_for(*path), size, extra);
  c.out_sent = 0;
  c.responding = true;
  c.close_after = !request.keep_alive;
  if (head_only) {
    ::close(file);
  } else {
    c.file = file;
    c.file_left = size;
    c.file_offset = 0;
  }
  log(c, line, 200, size);
}

void Server::respond_error(Connection& c, int status, bool head_only, bool keep_alive,
                           std::string_view log_line) {
  const std::string title = std::to_string(status) + " " + std::string(reason_phrase(status));
  const std::string body = "<!DOCTYPE html>\n<html><head><title>" + title +
                           "</title></head><body><h1>" + title + "</h1></body></html>\n";
  std::vector<std::string> extra;
  if (status == 405) extra.emplace_back("Allow: GET, HEAD");  // RFC 9110 §15.5.6: MUST
  add_connection_field(extra, keep_alive, 1);
  c.out = response_head(status, "text/html", body.size(), extra);
  if (!head_only) c.out += body;
  c.out_sent = 0;
  c.file_left = 0;
  c.responding = true;
  c.close_after = !keep_alive;
  log(c, log_line, status, body.size());
}

// Sends until all of the response is out (true) or the socket is full (false, POLLOUT
// resumes); reads the file a chunk at a time as the previous one is taken.
bool Server::send_pending(Connection& c) {
  for (;;) {
    if (c.out_sent == c.out.size()) {
      if (c.file_left == 0) return true;
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(c.file_left, kChunk));
      c.out.resize(want);
      c.out_sent = 0;
      const ssize_t got = ::pread(c.file, c.out.data(), want, c.file_offset);
      if (got <= 0) {
        // The file shrank or cannot be read: the Content-Length sent cannot be kept, and
        // only closing tells the client its body is short.
        drop(c);
        return false;
      }
      c.out.resize(static_cast<std::size_t>(got));
      c.file_offset += got;
      c.file_left -= static_cast<std::uint64_t>(got);
    }
    const ssize_t n =
        tapir::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) drop(c);  // EPIPE, ECONNRESET
      return false;
    }
    c.out_sent += static_cast<std::size_t>(n);
    c.deadline = Clock::now() + config_.idle_timeout;
  }
}

// Closing a socket that still has unread bytes makes TCP send a reset (RFC 1122 §4.2.2.13),
// and a reset can make the client throw away the response it has not read yet. So the server
// sends its FIN first and reads (discarding) until the client's FIN, or for kLinger at most.
void Server::begin_close(Connection& c) {
  if (c.peer_done) {  // their FIN came and everything before it was read: close is clean
    drop(c);
    return;
  }
  tapir::shutdown(c.fd, SHUT_WR);
  c.closing = true;
  c.in.clear();
  c.deadline = Clock::now() + kLinger;
}

void Server::linger(Connection& c) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = tapir::recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    drop(c);  // their FIN (0), or an error
    return;
  }
}

void Server::drop(Connection& c) {
  if (c.dead) return;
  tapir::close(c.fd);
  if (c.file >= 0) ::close(c.file);
  c.file = -1;
  c.dead = true;
}

void Server::log(const Connection& c, std::string_view request_line, int status,
                 std::uint64_t length) {
  if (!config_.verbose) return;
  const std::string peer = tapir::address_text(c.peer);
  std::printf("%s \"%.*s\" %d %llu\n", peer.c_str(), static_cast<int>(request_line.size()),
              request_line.data(), status, static_cast<unsigned long long>(length));
  std::fflush(stdout);
}

}  // namespace tapir::http
