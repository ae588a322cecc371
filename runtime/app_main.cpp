// The start and the end of a sample app's main(): the Host started from the common flags, and,
// once the app's work is done or a stop signal came, the Host stopped and --stats printed.
#include <cstdio>
#include <iostream>
#include <string>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace tapir {

namespace {

void stop_and_print_stats(Host& host, const Options& options) {
  host.stop();
  if (options.stats()) host.print_stats(std::cout);
}

void print_failure(std::string_view program, const std::string& failure) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
               failure.c_str());
}

}  // namespace

std::unique_ptr<Host> start_host(std::string_view program, const Options& options) {
  block_stop_signals();  // before the Host's thread starts, so it inherits the mask
  std::unique_ptr<Host> host;
  try {
    host = std::make_unique<Host>(options);
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << '\n';
    return nullptr;
  }
  host->start();  // the first Host started is the one tapir::socket() uses
  return host;
}

int run_until_stopped(std::string_view program, Host& host, const Options& options, int fd,
                      const std::function<int(const StopSignals& stop)>& work, int failure_status) {
  int result = 0;
  std::optional<std::string> failure;
  {
    // Gone before the socket is closed: a stop would otherwise shut down a closed descriptor.
    StopSignals stop(host, fd);
    result = work(stop);
    failure = stop.failure();
  }
  if (fd >= 0) tapir::close(fd);
  stop_and_print_stats(host, options);
  if (failure) {
    print_failure(program, *failure);
    return failure_status;
  }
  return result;
}

int serve_until_stopped(std::string_view program, Host& host, const Options& options,
                        const std::function<void()>& stop_services) {
  std::optional<std::string> failure;
  {
    StopSignals stop(host);
    stop.wait();
    failure = stop.failure();
  }
  if (failure) print_failure(program, *failure);
  stop_services();
  stop_and_print_stats(host, options);
  return failure ? 1 : 0;
}

}  // namespace tapir
