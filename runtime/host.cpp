// runtime::Host: builds a stack and its drivers from the common flags, and runs the event loop.
#include "runtime/host.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <system_error>

#include "drivers/af_packet.hpp"
#include "drivers/fault_injector.hpp"
#include "drivers/pcap_recorder.hpp"
#include "drivers/tap.hpp"
#include "runtime/control/commands.hpp"
#include "runtime/control/server.hpp"
#include "runtime/socket_api.hpp"

namespace tapir::runtime {

namespace {

// Frames taken from one driver per wake-up: enough to empty a burst (a 64 KB ping is 45
// fragments), small enough that one busy interface cannot starve the others or the timers.
constexpr std::size_t receive_budget = 64;

// The Host whose loop runs on this thread: its own wake-ups need no eventfd write, since the
// loop recomputes its deadline after every pass anyway.
thread_local const Host* current_loop = nullptr;

std::int64_t micros_of(const timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::optional<Instant> earliest(std::optional<Instant> a, std::optional<Instant> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

StackConfig stack_config_from(const HostOptions& options) {
  StackConfig config;
  config.forwarding = options.forward;
  config.igmp.force_version = options.igmp_version;
  if (options.msl) config.tcp.msl = *options.msl;
  if (!options.congestion.empty()) config.tcp.congestion = options.congestion;
  if (options.syn_cookies) config.tcp.syn_cookies = *options.syn_cookies;
  const Limits& limits = options.limits;
  if (limits.arp_entries) config.arp.max_entries = *limits.arp_entries;
  if (limits.arp_queue_bytes) config.arp.max_pending_bytes_total = *limits.arp_queue_bytes;
  if (limits.reasm_bytes) config.reassembly.memory_limit = *limits.reasm_bytes;
  if (limits.reasm_bytes_per_source) {
    config.reassembly.per_source_limit = *limits.reasm_bytes_per_source;
  }
  if (limits.syn_backlog) config.tcp.max_syn_backlog = *limits.syn_backlog;
  if (limits.syn_per_source) config.tcp.max_syn_per_source = *limits.syn_per_source;
  if (limits.connections) config.tcp.max_connections = *limits.connections;
  if (limits.echo_rate) config.icmp.echo_rate = static_cast<double>(*limits.echo_rate);
  // Unpredictable per run: the IP ID start and the reassembly hash key derive from it.
  std::random_device entropy;
  config.seed = (std::uint64_t{entropy()} << 32) | entropy();
  // RFC 792 timestamps are milliseconds since midnight UT; the stack only sees monotonic time.
  config.icmp.utc_offset = utc_offset_now();
  return config;
}

// SplitMix64's finaliser over seed + stream * golden ratio: streams 0, 1, 2... of one --fault
// seed are unrelated generators, so no two links or directions lose the same frames.
std::uint64_t derived_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + (stream + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void print_faults(std::ostream& out, const std::string& name, std::string_view direction,
                  const FaultStats& stats) {
  const std::pair<std::string_view, std::uint64_t> counts[] = {{"Frames", stats.frames},
                                                               {"Lost", stats.lost},
                                                               {"Duplicated", stats.duplicated},
                                                               {"Reordered", stats.reordered}};
  for (const auto& [what, value] : counts) {
    if (value != 0) out << name << ".fault" << direction << what << ' ' << value << '\n';
  }
}

void write_line_to_stderr(std::string_view line) {
  // One fwrite per line (stderr is unbuffered): lines from the loop stay whole.
  std::string text(line);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace

Instant monotonic_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return Instant::from_micros(micros_of(ts));
}

Duration utc_offset_now() {
  timespec real{};
  timespec mono{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  return Duration{micros_of(real) - micros_of(mono)};
}

MacAddress derived_mac(const std::optional<Ipv4Cidr>& address, std::string_view device) {
  std::uint32_t low = 0;
  std::uint8_t second = 0x00;
  if (address) {
    low = address->address.value();
  } else {
    // FNV-1a of the name; 02:01:... keeps these apart from the address-derived ones.
    low = 2166136261U;
    for (char c : device) low = (low ^ static_cast<std::uint8_t>(c)) * 16777619U;
    second = 0x01;
  }
  return MacAddress{MacAddress::Bytes{
      0x02, second, static_cast<std::uint8_t>(low >> 24), static_cast<std::uint8_t>(low >> 16),
      static_cast<std::uint8_t>(low >> 8), static_cast<std::uint8_t>(low)}};
}

Host::Host(StackConfig config) : stack_(std::make_unique<Stack>(config)) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::system_category(), "eventfd");
  now_ = monotonic_now();
}

Host::Host(const HostOptions& options) : Host(stack_config_from(options)) {
  if (!options.no_ctl) {
    const std::string name = options.name ? *options.name
                                          : std::string(program_invocation_short_name) + "-" +
                                                std::to_string(::getpid());
    try {
      control_ = std::make_unique<ControlServer>(
          control_dir(), name,
          [this](const std::string& request) { return answer_control(*this, request); });
    } catch (const std::system_error& e) {
      // A name asked for is a promise to tapirctl users: not keeping it is an error. The
      // default one is a convenience: without it (no /run/tapir for this user, say) the
      // program still runs, and says so once.
      if (options.name) throw;
      std::fprintf(stderr, "%s: no control socket (%s); tapirctl will not see this program\n",
                   program_invocation_short_name, e.what());
    }
  }
  if (options.trace_layers != 0) set_trace(options.trace_layers, write_line_to_stderr);
  std::shared_ptr<PcapFile> pcap;
  if (options.pcap) {
    pcap = std::make_shared<PcapFile>(*options.pcap, stack_->config().icmp.utc_offset);
  }

  if (options.fault) {
    const LinkConfig& f = *options.fault;
    fault_latency_ = f.delay + f.jitter + (f.reorder > 0 ? f.reorder_delay : Duration{0});
  }
  for (const InterfaceOptions& itf : options.interfaces) {
    std::unique_ptr<Driver> driver;
    std::uint32_t mtu = 1500;
    std::optional<MacAddress> mac = itf.mac;
    if (itf.kind == InterfaceOptions::Kind::tap) {
      // A TAP we create gets the MTU asked for, so Linux sends frames as large as we take.
      // Offloads by default, but not for a router (a super-frame would need segmenting in
      // software before it left on a 1500-byte link; tapir does not do that yet) nor under
      // --fault (the injector models a wire, where a loss takes one packet, not forty).
      const bool offload = options.offload.value_or(!options.forward && !options.fault);
      driver = std::make_unique<TapDriver>(itf.device, itf.mtu.value_or(0), offload);
      mtu = itf.mtu.value_or(1500);
    } else {
      auto packet = std::make_unique<PacketDriver>(itf.device);
      mtu = itf.mtu.value_or(packet->mtu());
      // By default tapir is the interface (its MAC); another MAC needs promiscuous mode.
      if (mac && *mac != packet->hardware_address()) packet->set_promiscuous(true);
      driver = std::move(packet);
    }
    if (!mac) mac = driver->hardware_address();
    if (!mac) mac = derived_mac(itf.address, itf.device);
    // The capture is of the wire: frames the injector drops on the way out never reach it,
    // frames it drops on the way in are recorded as they arrived.
    if (pcap) driver = std::make_unique<PcapRecorder>(std::move(driver), pcap);
    if (options.fault) {
      LinkConfig rx = *options.fault;
      LinkConfig tx = *options.fault;
      const std::uint64_t index = ports_.size();
      rx.seed = derived_seed(options.fault->seed, 2 * index);
      tx.seed = derived_seed(options.fault->seed, 2 * index + 1);
      auto injector = std::make_unique<FaultInjector>(std::move(driver), rx, tx);
      faults_.emplace_back(itf.device, injector.get());
      driver = std::move(injector);
    }
    add_interface(std::move(driver), NetifConfig{itf.device, *mac, mtu, itf.address});
  }

  // The options parser checked that each gateway is on a connected network.
  std::lock_guard lock(mutex_);
  if (options.gateway && !stack_->set_default_gateway(*options.gateway)) {
    throw std::invalid_argument("--gw: " + options.gateway->to_string() + " is not reachable");
  }
  for (const RouteOptions& route : options.routes) {
    if (!stack_->add_route(route.destination, route.gateway)) {
      throw std::invalid_argument("--route: " + route.gateway.to_string() + " is not reachable");
    }
  }
}

Host::~Host() {
  stop();
  socket_api::host_stopped(*this);  // also when it was made current (use_host) but never started
  // Drivers go before the stack whose hooks point at them; nothing runs in between.
  ports_.clear();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

NetifId Host::add_interface(std::unique_ptr<Driver> driver, const NetifConfig& config) {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) throw std::logic_error("Host::add_interface after start()");
  now_ = std::max(now_, monotonic_now());
  Driver* device = driver.get();
  // Two captured pointers: the std::function keeps them inline, so sending never allocates.
  const NetifId id = stack_->add_netif(
      config,
      [this, device](std::span<const std::uint8_t> frame) { device->transmit(now_, frame); }, now_);
  Port port;
  port.driver = std::move(driver);
  port.netif = id;
  port.deliver = [this, id](std::span<const std::uint8_t> frame) {
    stack_->receive(id, frame, now_);
  };
  port.driver->set_wakeup([this] { wake(); });
  ports_.push_back(std::move(port));
  return id;
}

void Host::enable_trace(std::uint32_t layer_mask) {
  set_trace(layer_mask, write_line_to_stderr);
}

void Host::set_trace(std::uint32_t layer_mask, Trace::Sink sink) {
  std::lock_guard lock(mutex_);
  stack_->trace().set_sink(std::move(sink));
  stack_->trace().enable(layer_mask);
}

void Host::set_change_hook(ChangeHook hook) {
  std::lock_guard lock(mutex_);
  change_hook_ = std::move(hook);
}

void Host::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  finished_ = false;
  {
    std::lock_guard lock(mutex_);
    failure_.reset();
    serving_ = true;
  }
  thread_ = std::thread([this] { run(); });
  socket_api::host_started(*this);
}

void Host::stop() {
  if (!thread_.joinable()) return;
  drain_faults();
  stopping_ = true;
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
  control_.reset();  // the loop served it; its socket file goes now, not at some later delete
  socket_api::host_stopped(*this);
}

// With --fault the last frames tapir sent (an app's FIN just before it exits) may still be in
// an injector's delay line. Behind netem they would be on their way already, so the loop runs
// on for the longest delay, once, to let them leave before the link goes away.
void Host::drain_faults() {
  if (faults_.empty() || !running()) return;
  bool held = false;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, injector] : faults_) held = held || injector->next_deadline();
  }
  if (held) std::this_thread::sleep_for(fault_latency_);
}

std::optional<std::string> Host::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void Host::wake() {
  if (current_loop == this) return;
  const std::uint64_t one = 1;
  // EAGAIN only when the counter is saturated, i.e. a wake-up is pending anyway.
  (void)!::write(wake_fd_, &one, sizeof one);
}

std::uint64_t Host::closes_of(int fd) const {
  if (fd < 0 || static_cast<std::size_t>(fd) >= closes_.size()) return 0;
  return closes_[static_cast<std::size_t>(fd)];
}

void Host::count_close(int fd) {
  if (fd < 0) return;
  if (static_cast<std::size_t>(fd) >= closes_.size())
    closes_.resize(static_cast<std::size_t>(fd) + 1);
  ++closes_[static_cast<std::size_t>(fd)];
}

void Host::catch_up() {
  now_ = std::max(now_, monotonic_now());
  stack_->advance(now_);
}

void Host::wake_if_sooner() {
  const auto next = earliest_deadline();
  if (next && (!sleep_until_ || *next < *sleep_until_)) wake();
}

std::optional<Instant> Host::earliest_deadline() const {
  std::optional<Instant> next = stack_->next_deadline();
  for (const Port& port : ports_) next = earliest(next, port.driver->next_deadline());
  return next;
}

// One pass of the loop: every driver with something to give, then the timers. A driver is
// asked if its fd polled readable, if it has no fd, or if it holds frames due by now (a
// decorator's delay line): a read that would only say EAGAIN costs a system call. Returns
// whether the pass handled a frame or a timer, i.e. whether a socket may have changed.
bool Host::serve(Instant now) {
  now_ = std::max(now_, now);
  std::size_t frames = 0;
  stack_->begin_batch();
  for (Port& port : ports_) {
    const auto due = port.driver->next_deadline();
    if (port.readable || port.driver->fd() < 0 || (due && *due <= now_)) {
      port.readable = false;
      frames += port.driver->receive(now_, port.deliver, receive_budget);
    }
  }
  stack_->end_batch();
  const auto timer = stack_->next_deadline();
  stack_->advance(now_);
  return frames > 0 || (timer && *timer <= now_);
}

void Host::run() {
  current_loop = this;
  // Wake at a deadline to the microsecond rather than up to 50 us late (the default timer
  // slack, prctl(2)): ARP and reassembly timers do not care, ping RTTs do.
  (void)::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

  // fds[0] is the eventfd; then one entry per driver that has an fd.
  std::vector<pollfd> fds;
  std::vector<Port*> polled;
  fds.push_back(pollfd{wake_fd_, POLLIN, 0});
  for (Port& port : ports_) {
    port.readable = true;  // the first pass drains whatever queued before the loop started
    if (port.driver->fd() < 0) continue;
    fds.push_back(pollfd{port.driver->fd(), POLLIN, 0});
    polled.push_back(&port);
  }
  // Last: the control socket, served here so no second thread touches the stack.
  const std::size_t ports_end = fds.size();
  if (control_) fds.push_back(pollfd{control_->fd(), POLLIN, 0});

  try {
    while (!stopping_.load(std::memory_order_relaxed)) {
      timespec timeout{};
      timespec* wait = nullptr;
      {
        std::lock_guard lock(mutex_);
        if (serve(monotonic_now())) state_changed();
        for (const Port& port : ports_) {
          if (port.driver->gone()) {
            throw std::runtime_error(port.driver->name() + ": the device went away");
          }
        }
        sleep_until_ = earliest_deadline();
        if (sleep_until_) {
          const std::int64_t us =
              std::max<std::int64_t>(0, (*sleep_until_ - monotonic_now()).count());
          timeout.tv_sec = static_cast<time_t>(us / 1000000);
          timeout.tv_nsec = static_cast<long>((us % 1000000) * 1000);
          wait = &timeout;
        }
      }
      if (::ppoll(fds.data(), fds.size(), wait, nullptr) < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::system_category(), "poll");
      }
      if (fds[0].revents & POLLIN) {
        std::uint64_t count = 0;
        (void)!::read(wake_fd_, &count, sizeof count);
      }
      if (control_ && (fds[ports_end].revents & POLLIN)) control_->serve_one();
      for (std::size_t i = 1; i < ports_end; ++i) {
        if (fds[i].revents & POLLNVAL) {
          throw std::runtime_error(polled[i - 1]->driver->name() + ": its descriptor was closed");
        }
        // POLLERR too: the driver's read collects the error (and notices a vanished device).
        if (fds[i].revents != 0) polled[i - 1]->readable = true;
      }
    }
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    failure_ = e.what();
  }
  {
    std::lock_guard lock(mutex_);
    sleep_until_.reset();
    // Nothing will arrive any more: blocked calls return ENETDOWN instead of sleeping forever.
    serving_ = false;
    changed_.notify_all();
  }
  finished_ = true;
  current_loop = nullptr;
}

void Host::print_stats(std::ostream& out) {
  std::lock_guard lock(mutex_);
  out << "tapir counters\n";
  stack_->stats().for_each([&out](std::string_view name, std::uint64_t value, const char*) {
    if (value != 0) out << name << ' ' << value << '\n';
  });
  for (const Port& port : ports_) {
    if (const std::uint64_t dropped = port.driver->tx_dropped(); dropped != 0) {
      out << stack_->netif(port.netif).name << ".txDropped " << dropped << '\n';
    }
    port.driver->for_each_counter([&](std::string_view name, std::uint64_t value) {
      if (value != 0) out << stack_->netif(port.netif).name << '.' << name << ' ' << value << '\n';
    });
  }
  for (const auto& [name, injector] : faults_) {
    print_faults(out, name, "Rx", injector->rx_faults());
    print_faults(out, name, "Tx", injector->tx_faults());
  }
  out.flush();
}

std::vector<InterfaceInfo> Host::interfaces() {
  std::lock_guard lock(mutex_);
  std::vector<InterfaceInfo> list;
  for (std::size_t i = 0; i < stack_->netif_count(); ++i) {
    const Netif& n = stack_->netif(static_cast<NetifId>(i));
    list.push_back(InterfaceInfo{n.name, n.address, n.mac, n.mtu});
  }
  return list;
}

}  // namespace tapir::runtime
