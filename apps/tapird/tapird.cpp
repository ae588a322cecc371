// tapird: the tapir stack as a host on a TAP or an interface; it answers ARP and ping, runs the
// classic small services (echo, discard, daytime, chargen) on UDP and TCP, and with --http
// serves a directory over HTTP/1.1.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <tapir/app.hpp>
#include <tapir/host.hpp>

#include "http_server.hpp"
#include "tcp_services.hpp"
#include "udp_services.hpp"

namespace {

constexpr const char* kProgram = "tapird";

struct Settings {
  bool services = true;                           // not --no-services
  std::optional<tapir::http::ServerConfig> http;  // --http DIR
  std::optional<std::uint16_t> http_port;         // --http-port
};

tapir::Options parse_command_line(int argc, char** argv, Settings& settings) {
  tapir::OptionParser parser(
      kProgram,
      "Runs the tapir TCP/IP stack as a host: it answers ARP and ping, serves echo, discard,\n"
      "daytime and chargen on UDP and TCP, serves a directory over HTTP with --http, and\n"
      "forwards between interfaces with --forward.");
  parser.add_flag("--no-services",
                  "do not run the echo, discard, daytime and chargen services (UDP and TCP)",
                  [&settings] { settings.services = false; });
  parser.add_option("--http", "DIR", "serve the files under DIR over HTTP/1.1 (GET, HEAD)",
                    [&settings](std::string_view v) -> std::optional<std::string> {
                      std::error_code ec;
                      if (v.empty() || !std::filesystem::is_directory(v, ec)) {
                        return tapir::OptionParser::expected("a directory", v);
                      }
                      settings.http.emplace();
                      settings.http->root = std::string(v);
                      return std::nullopt;
                    });
  parser.add_option("--http-port", "N", "the TCP port of --http (80)",
                    tapir::port_check([&settings](std::uint16_t p) { settings.http_port = p; }));
  return parser.parse_or_exit(argc, argv);
}

// What tapird runs beside the stack: the small services on UDP and TCP, and --http.
class Services {
 public:
  // Opens and starts them. Returns the error line that stops tapird, or "" when all runs.
  std::string start(const Settings& settings) {
    if (settings.services) {
      if (const std::string error = udp_.open(); !error.empty()) return error;
      udp_.start();
      // The UDP services do not depend on TCP: a stack without it (SOCK_STREAM refused) still
      // serves them, and says once why the TCP ones are missing.
      if (const std::string error = tcp_.open(); !error.empty()) {
        std::fprintf(stderr, "%s: warning: %s; TCP services off\n", kProgram, error.c_str());
      } else {
        tcp_.start();
      }
    }
    if (settings.http) {
      http_.emplace(*settings.http);
      if (const std::string error = http_->open(); !error.empty()) return error;
      http_->start();
    }
    return "";
  }

  void stop() {
    udp_.stop();
    tcp_.stop();
    if (http_) http_->stop();
  }

 private:
  tapird::UdpServices udp_;
  tapird::TcpServices tcp_;
  std::optional<tapir::http::Server> http_;
};

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const tapir::Options options = parse_command_line(argc, argv, settings);
  if (settings.http_port && !settings.http) {
    std::fprintf(stderr, "%s: --http-port: expected --http DIR with it\n", kProgram);
    return 2;
  }
  if (settings.http && settings.http_port) settings.http->port = *settings.http_port;

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;
  Services services;
  if (const std::string error = services.start(settings); !error.empty()) {
    std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
    services.stop();
    host->stop();
    return 1;
  }
  tapir::print_ready_line(*host);
  return tapir::serve_until_stopped(kProgram, *host, options, [&services] { services.stop(); });
}
