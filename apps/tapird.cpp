// tapird: the tapir stack as a host on a TAP or an interface; it answers ARP and ping.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <system_error>

#include "runtime/host.hpp"
#include "runtime/options.hpp"

namespace {

// "ready tap0 10.0.0.2/24 02:00:0a:00:00:02 tap1 ...": scripts wait for this line.
std::string ready_line(tapir::Host& host) {
  std::string line = "ready";
  for (const tapir::InterfaceInfo& itf : host.interfaces()) {
    line += " " + itf.name;
    line += " " + (itf.address ? itf.address->to_string() : std::string("-"));
    line += " " + itf.mac.to_string();
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  tapir::OptionParser parser(
      "tapird",
      "Runs the tapir TCP/IP stack as a host: it answers ARP and ping (and forwards "
      "between interfaces with --forward).");
  const tapir::Options options = parser.parse_or_exit(argc, argv);

  // Signals are taken with sigwait() on this thread only: block them before the Host starts
  // its thread, which inherits the mask (pthread_sigmask(3)).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<tapir::Host> host;
  try {
    host = std::make_unique<tapir::Host>(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tapird: %s\n", e.what());
    return 1;
  }
  host->start();
  std::printf("%s\n", ready_line(*host).c_str());
  std::fflush(stdout);

  int exit_code = 0;
  for (;;) {
    // Wake once a second to notice a loop that stopped on its own (a deleted TAP).
    const timespec second{1, 0};
    const int signal = sigtimedwait(&signals, nullptr, &second);
    if (auto failure = host->failure()) {
      std::fprintf(stderr, "tapird: %s\n", failure->c_str());
      exit_code = 1;
      break;
    }
    if (signal == SIGUSR1) host->print_stats(std::cerr);
    if (signal == SIGINT || signal == SIGTERM) break;
  }

  host->stop();
  if (options.stats) host->print_stats(std::cout);
  return exit_code;
}
