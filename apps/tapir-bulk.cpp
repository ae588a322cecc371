// tapir-bulk: a ttcp-like bulk TCP transfer on tapir (send or receive, connect or listen) that
// prints bytes, seconds, throughput and the SHA-256 of the data.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "tapir-bulk";

// Each send() offers this much, each recv() takes up to this much: large calls let the stack
// fill whole segments and keep the window full.
constexpr std::size_t kChunk = 64 * 1024;
// The generated data: byte i of the stream is i mod 251. A prime period never lines up with
// segment or chunk sizes, so a lost, repeated or reordered piece changes the SHA-256; and the
// stream is easy to rebuild elsewhere: bytes(i % 251 for i in range(n)) in Python.
constexpr std::size_t kPatternPeriod = 251;

struct Settings {
  bool send = false;
  bool recv = false;
  std::optional<sockaddr_in> peer;           // --send ADDR:PORT or --connect ADDR:PORT
  std::optional<std::uint16_t> listen_port;  // --listen PORT or --port PORT
  std::optional<std::uint64_t> bytes;        // --bytes: how many to send, or to expect
  std::optional<std::string> file;           // --file: what to send, or where to write
  std::chrono::microseconds timeout{10000000};
};

// --- command line -----------------------------------------------------------------------

// "104857600", or with a binary suffix: "100M" (K, M, G, T: powers of 1024).
std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  std::uint64_t unit = 1;
  if (!text.empty()) {
    const std::string_view suffixes = "KMGT";
    if (const auto s = suffixes.find(text.back()); s != std::string_view::npos) {
      unit = std::uint64_t{1} << (10 * (s + 1));
      text.remove_suffix(1);
    }
  }
  const auto n = tapir::parse_integer(text, 0, (1L << 62) / static_cast<long>(unit));
  if (!n) return std::nullopt;
  return static_cast<std::uint64_t>(*n) * unit;
}

// OptionParser's options always take a value, but --send is given both ways: with ADDR:PORT,
// or bare after --listen ("send to whoever connects"). A bare one is handed over as "--send=".
std::vector<std::string> with_bare_send_marked(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--send" && (i + 1 == args.size() || args[i + 1].starts_with("-"))) {
      args[i] = "--send=";
    }
  }
  return args;
}

// --- the data ---------------------------------------------------------------------------

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const std::uint8_t* data, std::size_t len) { EVP_DigestUpdate(ctx_, data, len); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, digest, &len);
    std::string text;
    char byte[3];
    for (unsigned int i = 0; i < len; ++i) {
      std::snprintf(byte, sizeof byte, "%02x", digest[i]);
      text += byte;
    }
    return text;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// What the sender sends, a chunk at a time: the pattern, or a file read as it goes.
class Source {
 public:
  // The pattern, `total` bytes of it.
  explicit Source(std::uint64_t total) : total_(total), buffer_(kChunk + kPatternPeriod) {
    for (std::size_t i = 0; i < buffer_.size(); ++i) {
      buffer_[i] = static_cast<std::uint8_t>(i % kPatternPeriod);
    }
  }
  // A file already open (kernel descriptor); its size when it is a regular file.
  Source(int file, std::optional<std::uint64_t> size)
      : file_(file), total_(size), buffer_(kChunk) {}
  ~Source() {
    if (file_ >= 0) ::close(file_);
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  std::optional<std::uint64_t> total() const { return total_; }

  // The next chunk; empty at the end. -1 from read(2) is an error (errno).
  struct Chunk {
    const std::uint8_t* data = nullptr;
    ssize_t len = 0;
  };
  Chunk next() {
    if (file_ < 0) {
      const std::uint64_t left = *total_ - offset_;
      const std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(left, kChunk));
      const Chunk chunk{buffer_.data() + offset_ % kPatternPeriod, static_cast<ssize_t>(len)};
      offset_ += len;
      return chunk;
    }
    ssize_t n;
    do {
      n = ::read(file_, buffer_.data(), buffer_.size());
    } while (n < 0 && errno == EINTR);
    return Chunk{buffer_.data(), n};
  }

 private:
  int file_ = -1;
  std::optional<std::uint64_t> total_;
  std::uint64_t offset_ = 0;
  std::vector<std::uint8_t> buffer_;
};

// A progress bar on stderr, redrawn at most ten times a second, only when stderr is a
// terminal: in a script or a log it would be noise.
class Progress {
 public:
  explicit Progress(std::optional<std::uint64_t> total)
      : shown_(::isatty(STDERR_FILENO) == 1), total_(total), start_(Clock::now()) {}

  void update(std::uint64_t done) {
    if (!shown_) return;
    const Clock::time_point now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double mbit = seconds > 0 ? static_cast<double>(done) * 8 / seconds / 1e6 : 0;
    const double mib = static_cast<double>(done) / (1024 * 1024);
    if (total_ && *total_ > 0) {
      constexpr int width = 30;
      const double fraction =
          std::min(1.0, static_cast<double>(done) / static_cast<double>(*total_));
      const int filled = static_cast<int>(fraction * width);
      std::fprintf(stderr, "\r[%.*s%*s] %3d%% %9.1f MiB %8.1f Mbit/s", filled,
                   "##############################", width - filled, "",
                   static_cast<int>(fraction * 100), mib, mbit);
    } else {
      std::fprintf(stderr, "\r%9.1f MiB %8.1f Mbit/s", mib, mbit);
    }
    drawn_ = true;
  }
  // Erases the bar, so the result lines start on a clean line.
  void finish() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

 private:
  bool shown_;
  bool drawn_ = false;
  std::optional<std::uint64_t> total_;
  Clock::time_point start_;
  Clock::time_point last_{};
};

void print_result(std::uint64_t bytes, Clock::duration elapsed, Sha256& sha) {
  const double seconds = std::max(std::chrono::duration<double>(elapsed).count(), 1e-9);
  std::printf("bytes %llu\n", static_cast<unsigned long long>(bytes));
  std::printf("seconds %.3f\n", seconds);
  std::printf("throughput %.1f Mbit/s\n", static_cast<double>(bytes) * 8 / seconds / 1e6);
  std::printf("sha256 %s\n", sha.hex().c_str());
  std::fflush(stdout);
}

// --- connections ------------------------------------------------------------------------

constexpr Clock::time_point kNever = Clock::time_point::max();

// Listens on `port`, prints the ready line, and accepts one connection (non-blocking, as the
// transfer loops want it); the listener is closed after. -1 after printing why.
int accept_one(std::uint16_t port, tapir::Host& host, const tapir::StopSignals& stop) {
  const int listener = tapir::listen_on(kProgram, port, 1);
  if (listener < 0) return -1;
  tapir::print_ready_line(host);
  int fd = -1;
  while (fd < 0) {
    const int revents = tapir::wait_for(listener, POLLIN, kNever, stop);
    if (revents <= 0) break;  // stopping, or poll failed
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    fd = tapir::accept(listener, reinterpret_cast<sockaddr*>(&peer), &len);
    if (fd < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) {
      std::fprintf(stderr, "tapir-bulk: accept: %s\n", std::strerror(errno));
      break;
    }
    if (fd >= 0) {
      std::printf("peer %s\n", tapir::address_text(peer).c_str());
      std::fflush(stdout);
    }
  }
  tapir::close(listener);
  // An accepted socket starts blocking, as on Linux.
  if (fd >= 0 && tapir::fcntl(fd, F_SETFL, tapir::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
    std::fprintf(stderr, "tapir-bulk: fcntl: %s\n", std::strerror(errno));
    tapir::close(fd);
    fd = -1;
  }
  return fd;
}

// --- the transfer -----------------------------------------------------------------------

// Sends the whole source, then our FIN (shutdown(SHUT_WR)), then waits for the receiver's FIN:
// it comes after the receiver has read everything, so a sender that exits 0 lost nothing. A
// close() straight after the last send could not tell, and would reset the connection if the
// peer sent anything.
int send_all(int fd, Source& source, const Settings& settings, const tapir::StopSignals& stop) {
  Sha256 sha;
  Progress progress(source.total());
  const Clock::time_point start = Clock::now();
  std::uint64_t sent = 0;
  auto fail = [&](const std::string& why) {
    progress.finish();
    if (!stop.stopped()) std::fprintf(stderr, "tapir-bulk: %s\n", why.c_str());
    return 1;
  };
  for (;;) {
    const Source::Chunk chunk = source.next();
    if (chunk.len < 0)
      return fail(std::string("read ") + *settings.file + ": " + std::strerror(errno));
    if (chunk.len == 0) break;
    sha.update(chunk.data, static_cast<std::size_t>(chunk.len));
    for (std::size_t off = 0; off < static_cast<std::size_t>(chunk.len);) {
      const ssize_t n = tapir::send(fd, chunk.data + off, static_cast<std::size_t>(chunk.len) - off,
                                    MSG_NOSIGNAL);
      if (n >= 0) {
        off += static_cast<std::size_t>(n);
        sent += static_cast<std::uint64_t>(n);
        progress.update(sent);
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return fail(std::string("send: ") + std::strerror(errno));
      }
      const int revents = tapir::wait_for(fd, POLLOUT, kNever, stop);
      if (revents < 0) return fail(std::string("poll: ") + std::strerror(errno));
      if (revents == 0) return fail("stopped");
    }
  }
  if (tapir::shutdown(fd, SHUT_WR) < 0) {
    return fail(std::string("shutdown: ") + std::strerror(errno));
  }
  const Clock::time_point deadline = Clock::now() + settings.timeout;
  char discard[4096];
  for (;;) {
    const ssize_t n = tapir::recv(fd, discard, sizeof discard, 0);
    if (n == 0) break;  // their FIN: everything we sent was read
    if (n > 0) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return fail(std::string("waiting for the receiver to close: ") + std::strerror(errno));
    }
    const int revents = tapir::wait_for(fd, POLLIN, deadline, stop);
    if (revents < 0) return fail(std::string("poll: ") + std::strerror(errno));
    if (revents == 0) {
      return fail("sent " + std::to_string(sent) +
                  " bytes, but the receiver did not close within " +
                  std::to_string(settings.timeout.count() / 1000000) + " s of our FIN");
    }
  }
  const Clock::duration elapsed = Clock::now() - start;
  progress.finish();
  print_result(sent, elapsed, sha);
  return 0;
}

// Writes all of `data` to the kernel descriptor `out`; false (errno) on an error.
bool write_all(int out, const std::uint8_t* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(out, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads until the sender's FIN (recv returns 0), hashing and, with --file, writing each piece.
int receive_all(int fd, int out, const Settings& settings, const tapir::StopSignals& stop) {
  Sha256 sha;
  Progress progress(settings.bytes);
  const Clock::time_point start = Clock::now();
  std::vector<std::uint8_t> buffer(kChunk);
  std::uint64_t received = 0;
  auto fail = [&](const std::string& why) {
    progress.finish();
    if (!stop.stopped()) std::fprintf(stderr, "tapir-bulk: %s\n", why.c_str());
    return 1;
  };
  for (;;) {
    const ssize_t n = tapir::recv(fd, buffer.data(), buffer.size(), 0);
    if (n == 0) break;
    if (n > 0) {
      sha.update(buffer.data(), static_cast<std::size_t>(n));
      if (out >= 0 && !write_all(out, buffer.data(), static_cast<std::size_t>(n))) {
        return fail("write " + *settings.file + ": " + std::strerror(errno));
      }
      received += static_cast<std::uint64_t>(n);
      progress.update(received);
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return fail(std::string("recv: ") + std::strerror(errno));
    }
    const int revents = tapir::wait_for(fd, POLLIN, kNever, stop);
    if (revents < 0) return fail(std::string("poll: ") + std::strerror(errno));
    if (revents == 0) return fail("stopped");
  }
  const Clock::duration elapsed = Clock::now() - start;
  progress.finish();
  print_result(received, elapsed, sha);
  if (settings.bytes && received != *settings.bytes) {
    std::fprintf(stderr, "tapir-bulk: received %llu bytes, expected %llu\n",
                 static_cast<unsigned long long>(received),
                 static_cast<unsigned long long>(*settings.bytes));
    return 1;
  }
  return 0;
}

// Connects or accepts as the flags say, moves the data one way and closes the connection; with
// --recv --file, closes the file too (its last writes can fail only then).
int transfer(const Settings& settings, Source* source, int file, tapir::Host& host,
             const tapir::StopSignals& stop) {
  int result = 1;
  const int fd = settings.peer ? tapir::connect_to(kProgram, *settings.peer, settings.timeout, stop)
                               : accept_one(*settings.listen_port, host, stop);
  if (fd >= 0) {
    result = settings.send ? send_all(fd, *source, settings, stop)
                           : receive_all(fd, file, settings, stop);
    // The stack leaves with this process: linger (up to 5 s) until the peer has acknowledged
    // our FIN, or a lost FIN would leave it waiting for its own timeout.
    const linger wait_for_fin{1, 5};
    tapir::setsockopt(fd, SOL_SOCKET, SO_LINGER, &wait_for_fin, sizeof wait_for_fin);
    tapir::close(fd);
  }
  if (stop.stopped() && !stop.failure()) {
    std::fprintf(stderr, "tapir-bulk: interrupted\n");
    result = 1;
  }
  if (!settings.send && file >= 0 && ::close(file) < 0) {
    std::fprintf(stderr, "tapir-bulk: %s: %s\n", settings.file->c_str(), std::strerror(errno));
    result = 1;
  }
  return result;
}

// What the flags cannot say one at a time: one direction, one way to meet the other end, and
// for a sender one source. nullopt when the line makes sense.
std::optional<std::string> usage_problem(const Settings& settings) {
  if (settings.send == settings.recv) return "expected one of --send or --recv (try --help)";
  if (settings.peer.has_value() == settings.listen_port.has_value()) {
    return settings.peer ? "expected either ADDR:PORT to connect to or --listen PORT, not both"
                         : "expected ADDR:PORT to connect to, or --listen PORT (try --help)";
  }
  if (settings.send && settings.bytes.has_value() == settings.file.has_value()) {
    return "--send: expected one of --bytes N or --file PATH";
  }
  return std::nullopt;
}

// Opens --file to read from (--send) or to write to (--recv), with its size when it is a
// regular file. -1 after printing why.
int open_file(const Settings& settings, std::optional<std::uint64_t>& size) {
  const int flags = settings.send ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC;
  const int file = ::open(settings.file->c_str(), flags | O_CLOEXEC, 0644);
  if (file < 0) {
    std::fprintf(stderr, "tapir-bulk: %s: %s\n", settings.file->c_str(), std::strerror(errno));
    return -1;
  }
  struct stat st {};
  if (::fstat(file, &st) == 0 && S_ISREG(st.st_mode)) size = static_cast<std::uint64_t>(st.st_size);
  return file;
}

tapir::Options parse_command_line(int argc, char** argv, Settings& settings) {
  tapir::OptionParser parser(
      kProgram,
      "Moves bulk data over one TCP connection, like ttcp, and prints lines for scripts:\n"
      "  bytes N / seconds S / throughput X Mbit/s / sha256 HEX\n"
      "Send:    --send ADDR:PORT (--bytes N | --file PATH)   or   --listen PORT --send --bytes N\n"
      "Receive: --recv --port PORT [--bytes N] [--file OUT]  or   --connect ADDR:PORT --recv\n"
      "Without --file the data is byte i = i mod 251, so its SHA-256 is reproducible.");
  const auto peer = tapir::address_port_check("an IPv4 address and port like 10.0.0.1:5001",
                                              [&](const sockaddr_in& p) { settings.peer = p; });
  parser.add_option("--send", "[ADDR:PORT]",
                    "send: to ADDR:PORT, or (bare, with --listen) to whoever connects",
                    [&settings, peer](std::string_view v) -> std::optional<std::string> {
                      settings.send = true;
                      if (v.empty()) return std::nullopt;
                      return peer(v);
                    });
  parser.add_flag("--recv", "receive until the sender closes", [&] { settings.recv = true; });
  parser.add_option("--connect", "ADDR:PORT", "connect to ADDR:PORT (the other end listens)", peer);
  auto port = tapir::port_check([&](std::uint16_t p) { settings.listen_port = p; });
  parser.add_option("--listen", "PORT", "wait on TCP PORT for the other end to connect", port);
  parser.add_option("--port", "PORT", "the same as --listen PORT", port);
  parser.add_option(
      "--bytes", "N", "send: N bytes of the pattern; receive: expect exactly N (K, M, G suffixes)",
      [&](std::string_view v) -> std::optional<std::string> {
        settings.bytes = parse_bytes(v);
        if (!settings.bytes) {
          return tapir::OptionParser::expected("a byte count like 104857600 or 100M", v);
        }
        return std::nullopt;
      });
  parser.add_option("--file", "PATH", "send: the file's bytes; receive: write them to PATH",
                    [&](std::string_view v) -> std::optional<std::string> {
                      if (v.empty()) return tapir::OptionParser::expected("a file name", v);
                      settings.file = std::string(v);
                      return std::nullopt;
                    });
  parser.add_option(
      "--timeout", "S", "seconds to wait for a connection, and for the receiver's close (10)",
      tapir::seconds_check(0.001, 86400, "seconds from 0.001 to 86400 like 10",
                           [&](std::chrono::microseconds s) { settings.timeout = s; }));
  const std::vector<std::string> args = with_bare_send_marked(argc, argv);
  std::vector<char*> arg_pointers;
  for (const std::string& a : args) arg_pointers.push_back(const_cast<char*>(a.c_str()));
  return parser.parse_or_exit(static_cast<int>(arg_pointers.size()), arg_pointers.data());
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const tapir::Options options = parse_command_line(argc, argv, settings);
  if (const auto problem = usage_problem(settings)) {
    std::fprintf(stderr, "tapir-bulk: %s\n", problem->c_str());
    return 2;
  }

  // Files first: a typo should fail before any connection is made.
  int file = -1;
  std::optional<std::uint64_t> file_size;
  if (settings.file) {
    file = open_file(settings, file_size);
    if (file < 0) return 1;
  }
  std::unique_ptr<Source> source;
  if (settings.send) {
    source = file >= 0 ? std::make_unique<Source>(file, file_size)
                       : std::make_unique<Source>(*settings.bytes);
  }

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;
  auto move_data = [&](const tapir::StopSignals& stop) {
    return transfer(settings, source.get(), file, *host, stop);
  };
  return tapir::run_until_stopped(kProgram, *host, options, -1, move_data);
}
