// The TCP simulator matrix: runs one cell's transfer, checks its bytes, measures its goodput.
#include "support/tcp_matrix.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>
#include <sstream>
#include <thread>

#include "support/tcp_pair.hpp"

namespace tapir::test::matrix {

namespace {

constexpr std::uint16_t port = 5001;
// Far beyond the slowest cell (5% loss, 100 ms): a cell that needs it has stalled.
constexpr Duration cell_limit{4LL * 3600 * 1'000'000};

// The byte at every offset of the stream: SplitMix64 of the offset's 8-byte word, so bytes
// delivered out of place, twice or from another offset never match by chance.
std::uint64_t pattern_word(std::uint64_t word) {
  std::uint64_t z = word + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void fill_pattern(std::uint64_t offset, std::span<std::uint8_t> out) {
  std::size_t k = 0;
  // The bytes of a word are taken from its low end up, whatever the host's byte order.
  auto byte_of = [](std::uint64_t at) {
    return static_cast<std::uint8_t>(pattern_word(at >> 3) >> (8 * (at & 7)));
  };
  for (; k < out.size() && ((offset + k) & 7) != 0; ++k) out[k] = byte_of(offset + k);
  // Whole words at a time: this runs over every byte of every cell, twice.
  for (; k + 8 <= out.size(); k += 8) {
    const std::uint64_t word = htole64(pattern_word((offset + k) >> 3));
    std::memcpy(out.data() + k, &word, sizeof word);
  }
  for (; k < out.size(); ++k) out[k] = byte_of(offset + k);
}

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", fraction * 100);
  return text;
}

double seconds(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

int set_int(sock::Api& api, int fd, int level, int name, int value) {
  return api.setsockopt(fd, level, name, &value, sizeof value);
}

int get_int(sock::Api& api, int fd, int level, int name) {
  int value = 0;
  socklen_t len = sizeof value;
  return api.getsockopt(fd, level, name, &value, &len) == 0 ? value : -1;
}

// The cell's buffer on a socket, both ways. SO_RCVBUF stops at net.core.rmem_max (212992, as
// Linux), below the 1 MiB cells; the FORCE forms are SO_RCVBUF and SO_SNDBUF without that cap.
bool set_buffers(sock::Api& api, int fd, int buffer) {
  return set_int(api, fd, SOL_SOCKET, SO_RCVBUFFORCE, buffer) == 0 &&
         set_int(api, fd, SOL_SOCKET, SO_SNDBUFFORCE, buffer) == 0;
}

LinkConfig link_for(const Cell& cell) {
  LinkConfig link;
  link.loss = cell.loss;
  link.delay = cell.rtt / 2;
  link.rate = bottleneck_rate;
  link.queue_bytes = bottleneck_queue;
  link.seed = link_seed;
  return link;
}

// The sending application: writes the pattern as fast as the socket takes it, then shuts down.
class Source {
 public:
  explicit Source(std::uint64_t bytes) : bytes_(bytes), chunk_(65536) {}

  void pump(sock::Api& api, int fd) {
    while (sent_ < bytes_) {
      if (staged_ == sent_) {
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk_.size(), bytes_ - sent_));
        fill_pattern(sent_, std::span(chunk_.data(), n));
        staged_ = sent_ + n;
        chunk_start_ = sent_;
      }
      const std::size_t from = static_cast<std::size_t>(sent_ - chunk_start_);
      const std::size_t len = static_cast<std::size_t>(staged_ - sent_);
      const ssize_t n = api.sendto(fd, chunk_.data() + from, len, 0, nullptr, 0);
      if (n <= 0) return;
      sent_ += static_cast<std::uint64_t>(n);
    }
    if (!shut_) shut_ = api.shutdown(fd, SHUT_WR) == 0;
  }

 private:
  std::uint64_t bytes_;
  std::uint64_t sent_ = 0;
  std::uint64_t staged_ = 0;  // chunk_ holds the pattern of [chunk_start_, staged_)
  std::uint64_t chunk_start_ = 0;
  std::vector<std::uint8_t> chunk_;
  bool shut_ = false;
};

// The receiving application: reads as soon as data is there and checks every byte.
class Sink {
 public:
  explicit Sink(std::uint64_t bytes) : bytes_(bytes), buffer_(65536), expected_(65536) {}

  // Reads what is there; true once the FIN (or an error) has been read.
  bool pump(sock::Api& api, int fd, std::string& error) {
    for (;;) {
      const ssize_t n = api.recvfrom(fd, buffer_.data(), buffer_.size(), 0, nullptr, nullptr);
      if (n == 0) return true;
      if (n == -EAGAIN) return false;
      if (n < 0) {
        error = "recv failed: " + std::string(std::strerror(static_cast<int>(-n)));
        return true;
      }
      const auto len = static_cast<std::size_t>(n);
      if (received_ + len > bytes_) {
        error = "more bytes than were sent";
        return true;
      }
      fill_pattern(received_, std::span(expected_.data(), len));
      if (std::memcmp(buffer_.data(), expected_.data(), len) != 0) {
        std::size_t k = 0;
        while (buffer_[k] == expected_[k]) ++k;
        error = "byte " + std::to_string(received_ + k) + " differs from what was sent";
        return true;
      }
      received_ += len;
    }
  }

  std::uint64_t received() const { return received_; }
  bool complete() const { return received_ == bytes_; }

 private:
  std::uint64_t bytes_;
  std::uint64_t received_ = 0;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t> expected_;
};

}  // namespace

std::string Cell::key() const {
  return cc + " " + percent(loss) + " " + std::to_string(rtt.count() / 1000) + " " +
         std::to_string(buffer);
}

std::vector<Cell> cells() {
  std::vector<Cell> out;
  for (const char* cc : {"reno", "cubic"}) {
    for (double loss : {0.0, 0.001, 0.01, 0.05}) {
      for (int rtt_ms : {1, 20, 100}) {
        for (int buffer : {64 << 10, 1 << 20}) {
          out.push_back(Cell{cc, loss, Duration{rtt_ms * 1000}, buffer});
        }
      }
    }
  }
  return out;
}

std::uint64_t transfer_bytes(const Cell& cell) {
  if (cell.loss <= 0) return 32 << 20;
  // About 1000 lost data segments, so a cell's goodput averages over many loss epochs (and
  // timeouts); at 0.1% loss that would be 1.4 GB, so 384 MiB (about 280).
  const auto for_losses = static_cast<std::uint64_t>(1000.0 / cell.loss * segment_payload);
  return std::min<std::uint64_t>(for_losses, 384 << 20);
}

Result run(const Cell& cell) {
  Result r;
  r.cell = cell;
  r.bytes = transfer_bytes(cell);
  TcpPair pair(link_for(cell));
  // Static neighbours, so the matrix measures TCP alone: otherwise the SYN waits for an ARP
  // exchange, and in a long transfer every expiry of the entry (60 s) holds datagrams until a
  // new exchange, whose frames the link may lose (at 0.1% loss and 100 ms, 3 more timeouts).
  pair.a().arp().add_permanent(0, *Ipv4Address::parse("10.0.0.2"),
                               *MacAddress::parse("02:00:00:00:00:02"));
  pair.b().arp().add_permanent(0, *Ipv4Address::parse("10.0.0.1"),
                               *MacAddress::parse("02:00:00:00:00:01"));
  sock::Api& a = pair.api_a();
  sock::Api& b = pair.api_b();

  const int listener = b.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  const int client = a.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (!set_buffers(b, listener, cell.buffer) ||
      b.bind(listener, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
      b.listen(listener, 1) != 0 || !set_buffers(a, client, cell.buffer) ||
      a.setsockopt(client, IPPROTO_TCP, TCP_CONGESTION, cell.cc.data(),
                   static_cast<socklen_t>(cell.cc.size())) != 0) {
    r.error = "socket set-up failed";
    return r;
  }
  inet_pton(AF_INET, "10.0.0.2", &sin.sin_addr);
  Network& net = pair.net();
  const Instant start = net.now();
  if (a.connect(client, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != -EINPROGRESS) {
    r.error = "connect failed";
    return r;
  }

  Source source(r.bytes);
  Sink sink(r.bytes);
  int server = -1;
  Instant last_byte = start;
  const Instant deadline = start + cell_limit;
  for (;;) {
    if (server < 0) server = b.accept(listener, nullptr, nullptr);
    source.pump(a, client);
    if (server >= 0) {
      const bool had_all = sink.complete();
      const bool eof = sink.pump(b, server, r.error);
      if (sink.complete() && !had_all) last_byte = net.now();
      if (eof) break;
    }
    if (!net.run_next(deadline) && net.now() >= deadline) {
      r.error = "stalled: " + std::to_string(sink.received()) + " bytes in " +
                std::to_string(seconds(cell_limit)) + " s";
      break;
    }
  }

  r.delivered = sink.received();
  if (r.error.empty() && !sink.complete()) r.error = "the FIN came early";
  r.exact = r.error.empty();
  r.elapsed = (sink.complete() ? last_byte : net.now()) - start;
  r.goodput = static_cast<double>(r.delivered) * 8 / seconds(r.elapsed);
  if (server >= 0) {
    r.window = std::min(get_int(a, client, SOL_SOCKET, SO_SNDBUF),
                        get_int(b, server, SOL_SOCKET, SO_RCVBUF));
  }
  r.retransmits = pair.a().stats().tcpRetransSegs;
  r.timeouts = pair.a().stats().tcpTimeouts;
  r.lost = pair.port_b().inbound_faults().lost;
  r.overflowed = pair.port_b().inbound_faults().overflowed;
  return r;
}

std::vector<Result> run_all(const std::vector<Cell>& cells, unsigned threads) {
  std::vector<Result> results(cells.size());
  std::atomic<std::size_t> next{0};
  const auto worker = [&] {
    for (std::size_t i = next++; i < cells.size(); i = next++) results[i] = run(cells[i]);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(threads, 1u); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return results;
}

double mathis_rate(const Cell& cell) {
  if (cell.loss <= 0) return std::numeric_limits<double>::infinity();
  return segment_payload * 8.0 / seconds(cell.rtt) * std::sqrt(1.5) / std::sqrt(cell.loss);
}

double window_ceiling(const Result& result) {
  return result.window * 8.0 / seconds(result.cell.rtt);
}

double link_ceiling() {
  return static_cast<double>(bottleneck_rate) * segment_payload / segment_frame;
}

std::string format_table(const std::vector<Result>& results) {
  std::string out = "# cc    loss%  rtt_ms  buffer    bytes       goodput_bps  retrans  timeouts\n";
  char line[160];
  for (const Result& r : results) {
    std::snprintf(line, sizeof line, "%-7s %-6s %-7lld %-9d %-11llu %-12.0f %-8llu %llu\n",
                  r.cell.cc.c_str(), percent(r.cell.loss).c_str(),
                  static_cast<long long>(r.cell.rtt.count() / 1000), r.cell.buffer,
                  static_cast<unsigned long long>(r.bytes), r.goodput,
                  static_cast<unsigned long long>(r.retransmits),
                  static_cast<unsigned long long>(r.timeouts));
    out += line;
  }
  return out;
}

std::map<std::string, GoldenRow> parse_golden(std::string_view text) {
  std::map<std::string, GoldenRow> rows;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string cc, loss, rtt, buffer;
    GoldenRow row;
    if (fields >> cc >> loss >> rtt >> buffer >> row.bytes >> row.goodput) {
      rows[cc + " " + loss + " " + rtt + " " + buffer] = row;
    }
  }
  return rows;
}

}  // namespace tapir::test::matrix
