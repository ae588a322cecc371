// tapir-traceroute: classic traceroute (UDP probes, or ICMP echo with -I) from a tapir host.
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;

// ICMP message types (RFC 792).
constexpr std::uint8_t kEchoReply = 0;
constexpr std::uint8_t kDestUnreachable = 3;
constexpr std::uint8_t kEchoRequest = 8;
constexpr std::uint8_t kTimeExceeded = 11;
constexpr std::uint8_t kPortUnreachable = 3;  // a code of kDestUnreachable

constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kProbeHeader = 8;  // UDP and ICMP echo headers are both 8 bytes
constexpr std::size_t kProbeData = 32;   // 60-byte probes, as Linux traceroute's default

struct Settings {
  bool icmp = false;           // -I
  int first_ttl = 1;           // -f
  int max_ttl = 30;            // -m
  int queries = 3;             // -q
  microseconds wait{3000000};  // -w
  std::uint16_t port = 33434;  // -p: the classic base port (Van Jacobson's traceroute)
};

// --- command line -----------------------------------------------------------------------

std::optional<long> parse_integer(std::string_view text, long min, long max) {
  long v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<microseconds> parse_seconds(std::string_view text, double min, double max) {
  std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v < min || v > max) return std::nullopt;
  return microseconds(std::llround(v * 1e6));
}

// traceroute's short options and their names in tapir's --flag parser (long flags only).
struct ShortOption {
  std::string_view short_name;
  std::string_view long_name;
  bool takes_value;
};
constexpr ShortOption kShortOptions[] = {
    {"-I", "--icmp", false},   {"-f", "--first-hop", true}, {"-m", "--max-hops", true},
    {"-q", "--queries", true}, {"-w", "--wait", true},      {"-p", "--port", true},
};

struct CommandLine {
  tapir::Options options;
  std::string dest;
};

[[noreturn]] void usage_error(const tapir::OptionParser& parser, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", parser.program().c_str(), message.c_str());
  std::exit(2);
}

// "-m 5" and "-m5" become "--max-hops 5", as getopt would read them.
std::vector<std::string> with_long_flags(int argc, char** argv) {
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const ShortOption* match = nullptr;
    for (const ShortOption& o : kShortOptions) {
      if (arg.starts_with(o.short_name) && (arg.size() == 2 || o.takes_value)) match = &o;
    }
    if (!match) {
      words.emplace_back(arg);
      continue;
    }
    words.emplace_back(match->long_name);
    if (arg.size() > 2) words.emplace_back(arg.substr(2));
    if (arg.size() == 2 && match->takes_value && i + 1 < argc) words.emplace_back(argv[++i]);
  }
  return words;
}

// tapir's OptionParser takes --flags only, and trace is used as `traceroute -I DEST`. So after the
// short options are rewritten, DEST is the one word outside the flags: the word whose removal
// leaves a command line the parser accepts, tried from the last word back (so that `--pcap FILE
// DEST` reads as meant). `settings` is what the parser's callbacks fill in; each try starts afresh.
CommandLine parse_command_line(const tapir::OptionParser& parser, Settings& settings, int argc,
                               char** argv) {
  const std::vector<std::string> words = with_long_flags(argc, argv);
  for (const std::string& word : words) {
    if (word == "--help" || word == "-h") {
      std::fputs(parser.usage().c_str(), stdout);
      std::exit(0);
    }
  }
  std::optional<std::string> address_error;  // why it failed with an address taken as DEST
  for (std::size_t i = words.size(); i-- > 0;) {
    if (words[i].starts_with('-')) continue;
    std::vector<std::string_view> rest(words.begin(), words.end());
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
    settings = Settings{};
    try {
      return CommandLine{parser.parse(rest), words[i]};
    } catch (const tapir::OptionError& e) {
      in_addr unused{};
      if (!address_error && inet_pton(AF_INET, words[i].c_str(), &unused) == 1) {
        address_error = e.what();
      }
    }
  }
  if (address_error) usage_error(parser, *address_error);
  try {
    settings = Settings{};
    parser.parse(std::vector<std::string_view>(words.begin(), words.end()));
  } catch (const tapir::OptionError& e) {
    usage_error(parser, e.what());
  }
  usage_error(parser, "expected DEST, the IPv4 address to trace (try --help)");
}

// --- signals ----------------------------------------------------------------------------

// SIGINT and SIGTERM end the run, SIGUSR1 prints the counters. main() blocks them before the
// Host starts, so its thread inherits the mask, and this thread takes them. It wakes a
// recvfrom() or poll() blocked on `fd` by shutting the socket down for reading: they then
// return 0 / POLLIN, as on Linux (shutdown(2)).
class SignalWatch {
 public:
  static sigset_t block() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return signals;
  }

  SignalWatch(tapir::Host& host, int fd, sigset_t signals)
      : thread_([this, &host, fd, signals] { run(host, fd, signals); }) {}
  ~SignalWatch() {
    finished_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);  // ends its sigtimedwait() now
    thread_.join();
  }

  bool stopped() const { return stopped_; }
  // Once stopped(): why the Host's loop ended on its own (its TAP was deleted...), if it did.
  std::optional<std::string> failure() const {
    return stopped_ ? failure_ : std::optional<std::string>();
  }

 private:
  void run(tapir::Host& host, int fd, sigset_t signals) {
    const timespec second{1, 0};  // how often to look at host.failure(), as tapird
    while (!finished_) {
      const int signal = sigtimedwait(&signals, nullptr, &second);
      if (finished_) break;
      if (signal == SIGUSR1) host.print_stats(std::cerr);
      if (stopped_) continue;
      if (signal != SIGINT && signal != SIGTERM) {
        failure_ = host.failure();
        if (!failure_) continue;
      }
      stopped_ = true;
      tapir::shutdown(fd, SHUT_RD);
    }
  }

  std::atomic<bool> finished_{false};
  std::atomic<bool> stopped_{false};
  std::optional<std::string> failure_;  // written only before stopped_ is set
  std::thread thread_;
};

// --- probes -----------------------------------------------------------------------------

// RFC 1071: the 16-bit one's complement of the one's complement sum.
std::uint16_t internet_checksum(const std::uint8_t* data, std::size_t len) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (len % 2) sum += data[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

struct Answer {
  in_addr from{};
  double ms = 0;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
};

struct Probe {
  Clock::time_point sent;
  std::optional<Answer> answer;
};

// What traceroute prints after the time of a probe the destination or a router refused
// (Linux traceroute's annotations); port unreachable from DEST is the expected end.
const char* annotation(const Answer& a) {
  if (a.type != kDestUnreachable) return "";
  switch (a.code) {
    case 0:
      return " !N";
    case 1:
      return " !H";
    case 2:
      return " !P";
    case kPortUnreachable:
      return "";
    case 4:
      return " !F";
    case 5:
      return " !S";
    case 9:
    case 10:
    case 13:
      return " !X";
    default:
      return " !<>";
  }
}

// One traceroute: the probes of each hop go out together and the hop's line is printed when
// every probe is answered or --wait has passed since they were sent.
class Tracer {
 public:
  Tracer(int icmp_fd, int udp_fd, std::uint16_t udp_port, in_addr dest, const Settings& settings)
      : icmp_fd_(icmp_fd), udp_fd_(udp_fd), udp_port_(udp_port), dest_(dest), settings_(settings) {
    std::random_device entropy;
    id_ = static_cast<std::uint16_t>(entropy());  // tells our echo requests from others'
  }

  // Sends the probes of hop `ttl`; false (after printing why) if the stack refused one.
  bool send_hop(int ttl) {
    hop_.assign(static_cast<std::size_t>(settings_.queries), Probe{});
    first_seq_ = next_seq_;
    const int fd = settings_.icmp ? icmp_fd_ : udp_fd_;
    if (tapir::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0) {
      std::fprintf(stderr, "tapir-traceroute: setsockopt IP_TTL: %s\n", std::strerror(errno));
      return false;
    }
    for (Probe& probe : hop_) {
      const std::uint16_t seq = next_seq_++;
      std::vector<std::uint8_t> packet;
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_addr = dest_;
      if (settings_.icmp) {
        packet.assign(kProbeHeader + kProbeData, 0);
        packet[0] = kEchoRequest;
        store16(&packet[4], id_);
        store16(&packet[6], seq);
        store16(&packet[2], internet_checksum(packet.data(), packet.size()));
      } else {
        // Each probe to its own port above the base, so the quoted UDP header says which
        // probe a router's answer is about (a port nobody is expected to listen on).
        packet.assign(kProbeData, 0);
        to.sin_port = htons(static_cast<std::uint16_t>(settings_.port + seq));
      }
      probe.sent = Clock::now();
      if (tapir::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                        sizeof to) < 0) {
        std::fprintf(stderr, "tapir-traceroute: sendto: %s\n", std::strerror(errno));
        return false;
      }
    }
    return true;
  }

  bool hop_answered() const {
    return std::all_of(hop_.begin(), hop_.end(), [](const Probe& p) { return p.answer; });
  }

  // Reads every ICMP datagram waiting; false when the socket was shut down.
  bool receive_all() {
    for (;;) {
      std::uint8_t datagram[65536];
      const ssize_t n = tapir::recv(icmp_fd_, datagram, sizeof datagram, MSG_DONTWAIT);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN;
      handle(datagram, static_cast<std::size_t>(n), Clock::now());
    }
  }

  struct HopResult {
    bool reached = false;  // DEST itself answered (echo reply, or port unreachable for UDP)
    bool over = false;     // reached, or a router said DEST is unreachable
  };

  // " 1  10.1.0.254  0.321 ms  0.210 ms  0.198 ms": an address is printed when it differs from
  // the previous probe's, "*" for a probe nobody answered.
  HopResult print_hop(int ttl) const {
    std::printf("%2d ", ttl);
    std::optional<in_addr_t> last;
    HopResult result;
    for (const Probe& probe : hop_) {
      if (!probe.answer) {
        std::printf(" *");
        continue;
      }
      const Answer& a = *probe.answer;
      if (last != a.from.s_addr) {
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a.from, text, sizeof text);
        std::printf(" %s", text);
        last = a.from.s_addr;
      }
      std::printf("  %.3f ms%s", a.ms, annotation(a));
      result.reached = result.reached || a.from.s_addr == dest_.s_addr;
      result.over = result.over || a.type == kEchoReply || a.type == kDestUnreachable;
    }
    std::printf("\n");
    std::fflush(stdout);
    return result;
  }

 private:
  // raw(7): a raw IPv4 socket receives the whole datagram, IP header first.
  void handle(const std::uint8_t* ip, std::size_t len, Clock::time_point now) {
    if (len < kIpHeader) return;
    const std::size_t header_len = (ip[0] & 0x0f) * 4u;
    if (header_len < kIpHeader || len < header_len + 8) return;
    const std::uint8_t* icmp = ip + header_len;
    const std::size_t icmp_len = len - header_len;
    Answer answer;
    std::memcpy(&answer.from, ip + 12, 4);
    answer.type = icmp[0];
    answer.code = icmp[1];

    std::optional<std::uint16_t> seq;
    if (answer.type == kEchoReply) {
      // RFC 792: the reply carries our identifier and sequence number back.
      if (settings_.icmp && load16(icmp + 4) == id_ && answer.from.s_addr == dest_.s_addr) {
        seq = load16(icmp + 6);
      }
    } else if (answer.type == kTimeExceeded || answer.type == kDestUnreachable) {
      seq = quoted_probe(icmp, icmp_len);
    }
    if (!seq) return;
    // Only the current hop's probes count: a late answer to an earlier hop is dropped.
    const std::uint16_t index = static_cast<std::uint16_t>(*seq - first_seq_);
    if (index >= hop_.size() || hop_[index].answer) return;
    answer.ms = std::chrono::duration<double, std::milli>(now - hop_[index].sent).count();
    hop_[index].answer = answer;
  }

  // RFC 792 / RFC 1122 §3.2.2: an ICMP error quotes the IP header and the first 8 bytes of the
  // datagram it is about: enough for the UDP ports, or the echo's identifier and sequence.
  std::optional<std::uint16_t> quoted_probe(const std::uint8_t* icmp, std::size_t len) const {
    if (len < 8 + kIpHeader) return std::nullopt;
    const std::uint8_t* quoted = icmp + 8;
    const std::size_t quoted_header = (quoted[0] & 0x0f) * 4u;
    if (len < 8 + quoted_header + 8 || std::memcmp(quoted + 16, &dest_, 4) != 0) {
      return std::nullopt;
    }
    const std::uint8_t* probe = quoted + quoted_header;
    if (settings_.icmp) {
      if (quoted[9] != IPPROTO_ICMP || probe[0] != kEchoRequest || load16(probe + 4) != id_) {
        return std::nullopt;
      }
      return load16(probe + 6);
    }
    if (quoted[9] != IPPROTO_UDP || load16(probe) != udp_port_) return std::nullopt;
    return static_cast<std::uint16_t>(load16(probe + 2) - settings_.port);
  }

  int icmp_fd_;
  int udp_fd_;
  std::uint16_t udp_port_;
  in_addr dest_;
  Settings settings_;
  std::uint16_t id_ = 0;
  std::uint16_t next_seq_ = 0;
  std::uint16_t first_seq_ = 0;  // of the current hop
  std::vector<Probe> hop_;
};

int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 1000000));
}

// A UDP socket for the probes, bound to an ephemeral port that the ICMP errors quote back.
int open_udp_probe_socket(std::uint16_t& port) {
  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return fd;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  socklen_t len = sizeof local;
  if (tapir::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0 ||
      tapir::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) {
    return -1;
  }
  port = ntohs(local.sin_port);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  tapir::OptionParser parser(
      "tapir-traceroute",
      "Prints the routers on the way to DEST from a tapir host: UDP probes to ports 33434 and up "
      "with TTL 1, 2, ... (or ICMP echo with -I), until DEST answers.\nDEST (an IPv4 address) "
      "goes anywhere among the flags: tapir-traceroute --tap tap0 --ip 10.0.0.2/24 --gw 10.0.0.1 "
      "10.2.0.1.\nShort forms: -I -f -m -q -w -p. Exit status 0 when DEST answered, else 1.");
  parser.add_flag("--icmp", "(-I) probe with ICMP echo requests instead of UDP",
                  [&] { settings.icmp = true; });
  parser.add_option(
      "--first-hop", "N", "(-f) TTL of the first probes (1)", [&](std::string_view v) {
        auto n = parse_integer(v, 1, 255);
        if (!n) return std::optional(tapir::OptionParser::expected("a TTL from 1 to 255", v));
        settings.first_ttl = static_cast<int>(*n);
        return std::optional<std::string>();
      });
  parser.add_option("--max-hops", "N", "(-m) largest TTL to try (30)", [&](std::string_view v) {
    auto n = parse_integer(v, 1, 255);
    if (!n) return std::optional(tapir::OptionParser::expected("a hop count from 1 to 255", v));
    settings.max_ttl = static_cast<int>(*n);
    return std::optional<std::string>();
  });
  parser.add_option("--queries", "N", "(-q) probes per hop (3)", [&](std::string_view v) {
    auto n = parse_integer(v, 1, 10);
    if (!n) return std::optional(tapir::OptionParser::expected("a probe count from 1 to 10", v));
    settings.queries = static_cast<int>(*n);
    return std::optional<std::string>();
  });
  parser.add_option("--wait", "S", "(-w) seconds to wait for a hop's answers (3)",
                    [&](std::string_view v) {
                      auto s = parse_seconds(v, 0.01, 60);
                      if (!s) {
                        return std::optional(
                            tapir::OptionParser::expected("seconds from 0.01 to 60 like 1.5", v));
                      }
                      settings.wait = *s;
                      return std::optional<std::string>();
                    });
  parser.add_option("--port", "PORT", "(-p) base UDP port; probe n goes to PORT+n (33434)",
                    [&](std::string_view v) {
                      auto n = parse_integer(v, 1, 65535);
                      if (!n)
                        return std::optional(tapir::OptionParser::expected("a port 1..65535", v));
                      settings.port = static_cast<std::uint16_t>(*n);
                      return std::optional<std::string>();
                    });
  const CommandLine line = parse_command_line(parser, settings, argc, argv);
  if (settings.first_ttl > settings.max_ttl) {
    usage_error(parser, "--first-hop: " + std::to_string(settings.first_ttl) +
                            " is above --max-hops " + std::to_string(settings.max_ttl));
  }
  in_addr dest{};
  if (inet_pton(AF_INET, line.dest.c_str(), &dest) != 1) {
    usage_error(parser, "DEST: " + tapir::OptionParser::expected("an IPv4 address like 10.0.0.1",
                                                                 line.dest));
  }

  const sigset_t signals = SignalWatch::block();
  std::unique_ptr<tapir::Host> host;
  try {
    host = std::make_unique<tapir::Host>(line.options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tapir-traceroute: %s\n", e.what());
    return 2;
  }
  host->start();

  // Answers come back as ICMP whatever the probes are: time exceeded from each router, then
  // port unreachable (UDP) or an echo reply (-I) from DEST.
  const int icmp_fd = tapir::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  std::uint16_t udp_port = 0;
  const int udp_fd = settings.icmp ? -1 : open_udp_probe_socket(udp_port);
  if (icmp_fd < 0 || (!settings.icmp && udp_fd < 0)) {
    std::fprintf(stderr, "tapir-traceroute: socket: %s\n", std::strerror(errno));
    return 1;
  }

  std::printf("traceroute to %s (%s), %d hops max, %zu byte packets\n", line.dest.c_str(),
              line.dest.c_str(), settings.max_ttl, kIpHeader + kProbeHeader + kProbeData);
  std::fflush(stdout);

  Tracer tracer(icmp_fd, udp_fd, udp_port, dest, settings);
  bool reached = false;
  bool failed = false;
  std::optional<std::string> failure;
  {
    SignalWatch watch(*host, icmp_fd, signals);
    for (int ttl = settings.first_ttl; ttl <= settings.max_ttl; ++ttl) {
      if (!tracer.send_hop(ttl)) {
        failed = true;
        break;
      }
      const Clock::time_point give_up = Clock::now() + settings.wait;
      while (!tracer.hop_answered() && Clock::now() < give_up && !watch.stopped()) {
        pollfd pfd{icmp_fd, POLLIN, 0};
        if (tapir::poll(&pfd, 1, milliseconds_until(give_up)) > 0 && !tracer.receive_all()) break;
      }
      if (watch.stopped()) break;
      const Tracer::HopResult hop = tracer.print_hop(ttl);
      reached = hop.reached;
      if (hop.over) break;
    }
    failure = watch.failure();
  }

  tapir::close(icmp_fd);
  if (udp_fd >= 0) tapir::close(udp_fd);
  host->stop();
  if (line.options.stats) host->print_stats(std::cout);
  if (failure) std::fprintf(stderr, "tapir-traceroute: %s\n", failure->c_str());
  return reached && !failed ? 0 : 1;
}
