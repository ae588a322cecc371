// What tapir's sample apps share besides the Host and the sockets: the command line, stop
// signals, the start and end of main(), the lines they print, TCP connections that honour a stop
// signal, and the bytes of ICMP messages.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <tapir/host.hpp>

namespace tapir {

namespace runtime {
struct HostOptions;  // runtime/host_options.hpp: the common flags' values, for the Host
}

// --- the command line ---------------------------------------------------------------------

// A bad command line: what() is one line naming the flag and what was expected,
// e.g. `--ip: expected ADDR/PREFIX like 10.0.0.2/24, got "foo"`.
class OptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the common flags said (--tap/--packet/--ip/...): a Host is built from it, and an app
// asks it only whether to print the counters. An app's own flags reach it through the callbacks
// it gave OptionParser.
class Options {
 public:
  bool stats() const;  // --stats: print the counters on exit (and on SIGUSR1)
  // The values themselves, in the stack's types (runtime/host_options.hpp): for the Host.
  const runtime::HostOptions& host() const;

 private:
  friend class OptionParser;
  explicit Options(std::shared_ptr<const runtime::HostOptions> host);

  std::shared_ptr<const runtime::HostOptions> host_;
};

class OptionParser {
 public:
  // Checks an app flag's value: nullopt if it is fine, else the text after "--flag: ", by
  // convention built with expected() (`expected a port 1..65535, got "x"`).
  using ValueCheck = std::function<std::optional<std::string>(std::string_view value)>;

  // `program` prefixes error lines ("tapird: ..."); `summary` opens --help.
  OptionParser(std::string program, std::string summary);

  // App flags. `names` is the long name with its dashes ("--echo-port"), or a short form and
  // the long one as a manual page writes them ("-c, --count"); --help shows the short form as
  // "(-c)" before `help`. A flag may be given more than once; the callback runs each time, in
  // command-line order. As getopt reads them, `-c 3` and `-c3` both give --count the value 3;
  // a short form may be longer than a letter (tcpdump's "-xx").
  void add_flag(std::string names, std::string help, std::function<void()> on_seen);
  void add_option(std::string names, std::string value_name, std::string help, ValueCheck on_value);
  // A word outside the flags, such as ping's DEST, anywhere on the line; positionals are
  // filled in the order they were added, each checked as it comes. A missing one is the error
  // `expected NAME, WHAT (try --help)`, e.g. `expected DEST, the IPv4 address to ping`.
  void add_positional(std::string name, std::string what, ValueCheck on_value);

  // Parses arguments (without the program name). Throws OptionError on the first problem.
  // `--flag=value` is accepted as well as `--flag value`.
  Options parse(const std::vector<std::string_view>& args) const;
  // For main(): --help prints usage() to stdout and exits 0; an error prints
  // "program: <error>" to stderr and exits 2.
  Options parse_or_exit(int argc, char** argv) const;

  std::string usage() const;

  // `expected WHAT, got "VALUE"`: the house style of a value error.
  static std::string expected(std::string_view what, std::string_view value);

 private:
  struct Extra {
    std::string name;        // "--count"
    std::string short_name;  // "-c", or empty
    std::string value_name;  // empty: a flag without a value
    std::string help;
    std::function<void()> on_seen;
    ValueCheck on_value;
  };
  struct Positional {
    std::string name;
    std::string what;
    ValueCheck on_value;
  };
  // A word on the command line read as a flag: its long name and any value written into it.
  struct FlagWord {
    std::string_view flag;
    std::optional<std::string_view> inline_value;
  };

  void add_extra(std::string names, Extra extra);
  const Extra* find_extra(std::string_view name) const;
  FlagWord read_flag_word(std::string_view arg) const;

  std::string program_;
  std::string summary_;
  std::vector<Extra> extras_;
  std::vector<Positional> positionals_;
};

// --- checks for the values apps take ------------------------------------------------------

// A whole number in decimal from min to max, all of `text`; nullopt otherwise.
std::optional<long> parse_integer(std::string_view text, long min, long max);

// Each check hands the value to `use` when it is good; `what` completes the error line
// `expected WHAT, got "VALUE"`.
OptionParser::ValueCheck integer_check(long min, long max, std::string what,
                                       std::function<void(long)> use);
// Seconds, fractions allowed ("0.2"), from min to max, to the microsecond ("nan" and "inf" are
// no seconds).
OptionParser::ValueCheck seconds_check(double min, double max, std::string what,
                                       std::function<void(std::chrono::microseconds)> use);
// inet_pton(3)'s dotted quad.
OptionParser::ValueCheck address_check(std::string what, std::function<void(in_addr)> use);
// A multicast group address, 224.0.0.0 to 239.255.255.255 (class D, RFC 1112 §4).
OptionParser::ValueCheck group_check(std::function<void(in_addr)> use);
// ADDR:PORT, a dotted quad and a port 1..65535, e.g. "10.0.0.1:7".
OptionParser::ValueCheck address_port_check(std::string what,
                                            std::function<void(const sockaddr_in&)> use);
// A count of 1 or more (up to 2^62, far from overflowing a long).
OptionParser::ValueCheck count_check(std::function<void(long)> use);
// A port 1..65535 (0 is no port to send to or listen on).
OptionParser::ValueCheck port_check(std::function<void(std::uint16_t)> use);

// --- stop signals -------------------------------------------------------------------------

// Blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread. Call it in main() before the Host
// starts: threads inherit the mask (pthread_sigmask(3)), so a signal waits, pending, for the
// StopSignals thread to take it, instead of killing the process in the middle of a line.
void block_stop_signals();

// A thread that takes the signals blocked above. SIGINT or SIGTERM stops the app, and so does
// a Host loop that ended on its own (its TAP was deleted, say); SIGUSR1 prints the counters to
// stderr. Stopping shuts `fd` (if not -1) down for reading, which wakes a recvfrom() or poll()
// blocked on it: they return 0 / POLLIN, as on Linux (shutdown(2)).
class StopSignals {
 public:
  explicit StopSignals(Host& host, int fd = -1);
  ~StopSignals();  // ends the thread; the signals stay blocked
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool stopped() const { return stopped_; }
  void wait() const { stopped_.wait(false); }
  // Once stopped(): why the Host's loop ended on its own, if it did.
  std::optional<std::string> failure() const {
    return stopped_ ? failure_ : std::optional<std::string>();
  }

 private:
  void run(Host& host, int fd);

  std::atomic<bool> finished_{false};
  std::atomic<bool> stopped_{false};
  std::optional<std::string> failure_;  // written only before stopped_ is set
  std::thread thread_;                  // last: it starts once the members above exist
};

// --- the start and the end of main() ------------------------------------------------------

// What every sample app's main() does first: block the stop signals, build the Host from the
// common flags and start it. When a device cannot be opened it prints "program: why" on
// stderr and returns nullptr (the app picks its exit status).
std::unique_ptr<Host> start_host(std::string_view program, const Options& options);

// The rest of main() once the app's socket `fd` is open (-1: none): runs work(stop) while a
// StopSignals(host, fd) takes the stop signals, then closes `fd`, stops the Host, prints the
// counters on stdout with --stats, and "program: why" on stderr if the Host's loop ended on its
// own. Returns what work returned, or `failure_status` after such an end.
int run_until_stopped(std::string_view program, Host& host, const Options& options, int fd,
                      const std::function<int(const StopSignals& stop)>& work,
                      int failure_status = 1);

// The same for a server whose work runs on threads of its own (tapird, tapir-httpd): waits for
// a stop signal, says why if the Host's loop ended on its own, calls stop_services(), then stops
// the Host and prints the counters with --stats. Returns 1 after a loop failure, else 0.
int serve_until_stopped(std::string_view program, Host& host, const Options& options,
                        const std::function<void()>& stop_services);

// --- lines apps print ---------------------------------------------------------------------

// Prints "ready tap0 10.0.0.2/24 02:00:0a:00:00:02 tap1 ..." (an interface without an address
// shows "-") to stdout, flushed: scripts wait for this line before they send anything.
void print_ready_line(Host& host);

// "10.0.0.1"
std::string address_text(in_addr address);
// "10.0.0.1:7"
std::string address_text(const sockaddr_in& address);

// Printable ASCII as is, the rest as C escapes ("\n", "\\", "\x00"); past `shown` bytes, "...".
std::string printable(const std::uint8_t* data, std::size_t len,
                      std::size_t shown = std::numeric_limits<std::size_t>::max());

// --- waiting and TCP connections ----------------------------------------------------------

// The poll(2) timeout that ends at `deadline`: milliseconds from now, rounded up (a poll that
// wakes early would only poll again), at least 0 and at most 1000 s.
int milliseconds_until(std::chrono::steady_clock::time_point deadline);

// Sleeps until `when`, or until `fd` is readable: a stop signal shuts the app's socket down for
// reading (StopSignals), which ends the sleep at once.
void sleep_until(int fd, std::chrono::steady_clock::time_point when);

// Waits for `events` on `fd` until `deadline`, a tick (200 ms) at a time so that a stop signal
// is noticed. Returns the revents, 0 when the deadline passed or the app is stopping, -1
// (errno) when poll fails.
int wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline,
             const StopSignals& stop);

// A TCP connection to `peer` within `timeout`: a non-blocking socket, connect(), poll for
// POLLOUT and the outcome from SO_ERROR, the classic way to bound the wait. Returns the
// connected socket, still non-blocking, or -1 after printing "program: socket: why" or
// "program: connect to ADDR:PORT: why" on stderr (nothing when a stop signal ended the wait).
int connect_to(std::string_view program, const sockaddr_in& peer, std::chrono::microseconds timeout,
               const StopSignals& stop);

// A non-blocking TCP socket listening on `port` of every address, with SO_REUSEADDR so that a
// restarted app binds at once, without waiting out old connections' TIME-WAIT. -1 after
// printing "program: socket: why" or "program: port N: why" on stderr.
int listen_on(std::string_view program, std::uint16_t port, int backlog);

// --- the bytes of ICMP messages -----------------------------------------------------------
// In their own namespace: the stack has helpers of these names, and the runtime sees both.
namespace wire {

// RFC 1071: the 16-bit one's complement of the one's complement sum.
inline std::uint16_t internet_checksum(const std::uint8_t* data, std::size_t len) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (len % 2) sum += data[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// A 16-bit field in network byte order.
inline std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

inline void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

}  // namespace wire
}  // namespace tapir
