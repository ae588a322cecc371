// tapir-httpd: an HTTP/1.1 server of one directory's files (GET, HEAD, keep-alive) on tapir.
#include <chrono>
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

namespace {

constexpr const char* kProgram = "tapir-httpd";

// Fills `config` from the app's flags; `have_dir` says whether --dir was given.
tapir::Options parse_command_line(int argc, char** argv, tapir::http::ServerConfig& config,
                                  bool& have_dir) {
  tapir::OptionParser parser(
      kProgram,
      "Serves the files under --dir over HTTP/1.1 (GET and HEAD, keep-alive, pipelining) on\n"
      "TCP port 80 or --port, to any number of clients from one thread.");
  parser.add_option("--dir", "DIR", "the directory to serve (DIR/index.html for \"/\")",
                    [&](std::string_view v) -> std::optional<std::string> {
                      std::error_code ec;
                      if (v.empty() || !std::filesystem::is_directory(v, ec)) {
                        return tapir::OptionParser::expected("a directory", v);
                      }
                      config.root = std::string(v);
                      have_dir = true;
                      return std::nullopt;
                    });
  parser.add_option("--port", "N", "the TCP port to listen on (80)",
                    tapir::port_check([&](std::uint16_t port) { config.port = port; }));
  parser.add_option(
      "--idle-timeout", "S", "close a keep-alive connection after S seconds without a request (30)",
      tapir::seconds_check(
          0.1, 86400, "seconds from 0.1 to 86400 like 30", [&](std::chrono::microseconds s) {
            config.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(s);
          }));
  parser.add_flag("-v, --verbose",
                  "print one line per request: client, request line, status, length",
                  [&] { config.verbose = true; });
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  tapir::http::ServerConfig config;
  bool have_dir = false;
  const tapir::Options options = parse_command_line(argc, argv, config, have_dir);
  if (!have_dir) {
    std::fprintf(stderr, "%s: expected --dir DIR, the directory to serve (try --help)\n", kProgram);
    return 2;
  }

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;
  tapir::http::Server server(config);
  if (const std::string error = server.open(); !error.empty()) {
    std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
    host->stop();
    return 1;
  }
  tapir::print_ready_line(*host);
  server.start();
  return tapir::serve_until_stopped(kProgram, *host, options, [&server] { server.stop(); });
}
