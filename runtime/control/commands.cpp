#include "runtime/control/commands.hpp"

#include <sstream>
#include <vector>

#include "runtime/host.hpp"

namespace tapir::runtime {

namespace {

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

}  // namespace

std::string answer_control(Host& host, const std::string& request) {
  const std::vector<std::string> words = split_words(request);
  if (words.empty()) return "error: empty request\n";
  const std::string& command = words[0];
  if (command == "ping") return "pong\n";
  if (command == "stats" && words.size() == 1) {
    std::ostringstream out;
    host.print_stats(out);
    return out.str();
  }
  return "error: unknown command '" + request + "'\n";
}

}  // namespace tapir::runtime
