// TAPIR_* environment variables as the words of a command line.
#include "preload/environment_flags.hpp"

#include <cctype>
#include <cstdlib>

#include <tapir/app.hpp>

#include "runtime/common_flags.hpp"

namespace tapir::preload {

namespace {

constexpr std::string_view kArgs = "TAPIR_ARGS";

void split(std::string_view text, std::string_view separators, std::vector<std::string>& words) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find_first_of(separators, start);
    const std::string_view word = text.substr(start, end - start);
    if (!word.empty()) words.emplace_back(word);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

}  // namespace

std::string variable_for(std::string_view flag) {
  std::string name = "TAPIR_";
  while (flag.starts_with('-')) flag.remove_prefix(1);
  for (char c : flag) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

std::vector<std::string> flag_variables() {
  std::vector<std::string> names;
  for (const runtime::CommonFlag& f : runtime::common_flags()) {
    if (f.name != "--help") names.push_back(variable_for(f.name));
  }
  names.emplace_back(kArgs);
  return names;
}

std::vector<std::string> flag_words_from_environment() {
  std::vector<std::string> words;
  for (const runtime::CommonFlag& f : runtime::common_flags()) {
    if (f.name == "--help") continue;
    const std::string variable = variable_for(f.name);
    const char* value = std::getenv(variable.c_str());
    if (!value) continue;
    const std::string_view v = value;
    if (f.value_name.empty()) {
      if (v == "1") {
        words.emplace_back(f.name);
      } else if (!v.empty() && v != "0") {
        throw OptionError(variable + ": " + OptionParser::expected("1 or 0", v));
      }
      continue;
    }
    if (v.empty()) continue;  // TAPIR_GW= means no gateway, as if unset
    if (f.name == "--route") {
      // Several routes: one variable, the routes separated by spaces.
      std::vector<std::string> routes;
      split(v, " \t\n", routes);
      for (const std::string& r : routes) {
        words.emplace_back(f.name);
        words.push_back(r);
      }
      continue;
    }
    words.emplace_back(f.name);
    words.emplace_back(v);
  }
  if (const char* args = std::getenv(std::string(kArgs).c_str())) {
    const std::string_view text = args;
    split(text, text.find('\n') != std::string_view::npos ? "\n" : " \t", words);
  }
  return words;
}

}  // namespace tapir::preload
