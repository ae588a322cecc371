// OptionParser: words on the command line read as the common flags, an app's own flags and its
// positionals, and --help, all from the same tables.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <tapir/app.hpp>

#include "runtime/common_flags.hpp"
#include "runtime/host_options.hpp"

namespace tapir {

using runtime::fail;
using runtime::quoted;

namespace {

std::string trimmed(std::string_view text) {
  while (text.starts_with(' ')) text.remove_prefix(1);
  while (text.ends_with(' ')) text.remove_suffix(1);
  return std::string(text);
}

// The value of `flag`: written into it ("--count=3", "-c3"), or else the next word, which
// `next` then moves past; none for a flag that takes no value.
std::string_view value_of(std::string_view flag, std::string_view value_name,
                          std::optional<std::string_view> inline_value,
                          const std::vector<std::string_view>& args, std::size_t& next) {
  if (value_name.empty()) {
    if (inline_value) fail(flag, "takes no value, got " + quoted(*inline_value));
    return {};
  }
  if (inline_value) return *inline_value;
  if (next + 1 < args.size()) return args[++next];
  fail(flag, "expected " + std::string(value_name) + " after it, got nothing");
}

}  // namespace

Options::Options(std::shared_ptr<const runtime::HostOptions> host) : host_(std::move(host)) {}

bool Options::stats() const {
  return host_->stats;
}

const runtime::HostOptions& Options::host() const {
  return *host_;
}

std::string OptionParser::expected(std::string_view what, std::string_view value) {
  return "expected " + std::string(what) + ", got " + quoted(value);
}

OptionParser::OptionParser(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void OptionParser::add_flag(std::string names, std::string help, std::function<void()> on_seen) {
  add_extra(std::move(names), Extra{"", "", "", std::move(help), std::move(on_seen), nullptr});
}

void OptionParser::add_option(std::string names, std::string value_name, std::string help,
                              ValueCheck on_value) {
  if (value_name.empty()) value_name = "VALUE";
  add_extra(std::move(names),
            Extra{"", "", std::move(value_name), std::move(help), nullptr, std::move(on_value)});
}

void OptionParser::add_positional(std::string name, std::string what, ValueCheck on_value) {
  positionals_.push_back(Positional{std::move(name), std::move(what), std::move(on_value)});
}

// `names` is "--count", or "-c, --count" with the short form before the comma.
void OptionParser::add_extra(std::string names, Extra extra) {
  const std::string_view text = names;
  if (const auto comma = text.find(','); comma != std::string_view::npos) {
    extra.short_name = trimmed(text.substr(0, comma));
    extra.name = trimmed(text.substr(comma + 1));
  } else {
    extra.name = trimmed(text);
  }
  const std::string& s = extra.short_name;
  const bool short_ok = s.empty() || (s.size() >= 2 && s[0] == '-' && s[1] != '-');
  if (!extra.name.starts_with("--") || extra.name.size() < 3 || !short_ok) {
    throw std::logic_error("expected \"--name\" or \"-n, --name\", got " + quoted(names));
  }
  const bool short_taken =
      !s.empty() && (s == "-h" || std::any_of(extras_.begin(), extras_.end(),
                                              [&s](const Extra& e) { return e.short_name == s; }));
  if (runtime::find_common_flag(extra.name) || find_extra(extra.name) || short_taken) {
    throw std::logic_error("flag defined twice: " + names);
  }
  extras_.push_back(std::move(extra));
}

const OptionParser::Extra* OptionParser::find_extra(std::string_view name) const {
  for (const Extra& e : extras_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

// "--flag" or "--flag=value"; a short form alone ("-c", "-xx"), or one that takes a value
// with the value after it ("-c3", as getopt); "-h" is --help.
OptionParser::FlagWord OptionParser::read_flag_word(std::string_view arg) const {
  if (arg == "-h") return {"--help", std::nullopt};
  if (arg.starts_with("--") && arg != "--") {
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos) return {arg, std::nullopt};
    return {arg.substr(0, eq), arg.substr(eq + 1)};
  }
  const Extra* with_value = nullptr;
  for (const Extra& e : extras_) {
    if (e.short_name.empty()) continue;
    if (arg == e.short_name) return {e.name, std::nullopt};
    if (!with_value && !e.value_name.empty() && arg.starts_with(e.short_name)) with_value = &e;
  }
  if (!with_value) throw OptionError("unexpected argument " + quoted(arg) + " (try --help)");
  return {with_value->name, arg.substr(with_value->short_name.size())};
}

Options OptionParser::parse(const std::vector<std::string_view>& args) const {
  runtime::CommonFlagState common;
  std::size_t positionals_seen = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (!arg.starts_with('-')) {  // not a flag: the next positional (ping's DEST)
      if (positionals_seen == positionals_.size()) {
        throw OptionError("unexpected argument " + quoted(arg) + " (try --help)");
      }
      const Positional& p = positionals_[positionals_seen++];
      if (auto error = p.on_value(arg)) fail(p.name, *error);
      continue;
    }
    const auto [flag, inline_value] = read_flag_word(arg);
    const runtime::CommonFlag* builtin = runtime::find_common_flag(flag);
    const Extra* extra = builtin ? nullptr : find_extra(flag);
    if (!builtin && !extra) throw OptionError("unknown flag " + quoted(flag) + " (try --help)");
    const std::string_view value =
        value_of(flag, builtin ? builtin->value_name : extra->value_name, inline_value, args, i);
    if (builtin) {
      builtin->apply(common, flag, value);
      // --help: the rest of the line does not matter.
      if (common.options.help) {
        return Options(std::make_shared<const runtime::HostOptions>(std::move(common.options)));
      }
      continue;
    }
    if (extra->on_seen) extra->on_seen();
    if (extra->on_value) {
      if (auto error = extra->on_value(value)) fail(flag, *error);
    }
  }

  runtime::HostOptions options = runtime::finish_common_flags(std::move(common));
  if (positionals_seen < positionals_.size()) {
    const Positional& p = positionals_[positionals_seen];
    throw OptionError("expected " + p.name + ", " + p.what + " (try --help)");
  }
  return Options(std::make_shared<const runtime::HostOptions>(std::move(options)));
}

Options OptionParser::parse_or_exit(int argc, char** argv) const {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  try {
    Options o = parse(args);
    if (o.host().help) {
      std::fputs(usage().c_str(), stdout);
      std::exit(0);
    }
    return o;
  } catch (const OptionError& e) {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), e.what());
    std::exit(2);
  }
}

std::string OptionParser::usage() const {
  std::ostringstream out;
  out << "usage: " << program_ << " --tap NAME --ip ADDR/PREFIX [--tap NAME --ip ...] [flags]\n"
      << "       " << program_ << " --packet IFNAME --ip ADDR/PREFIX [flags]\n"
      << summary_ << "\n\nflags:\n";
  auto line = [&out](std::string_view name, std::string_view value, std::string_view help) {
    std::string left = "  " + std::string(name);
    if (!value.empty()) left += " " + std::string(value);
    out << left;
    out << std::string(left.size() < 26 ? 26 - left.size() : 1, ' ') << help << "\n";
  };
  for (const runtime::CommonFlag& f : runtime::common_flags()) line(f.name, f.value_name, f.help);
  for (const Extra& e : extras_) {
    line(e.name, e.value_name, e.short_name.empty() ? e.help : "(" + e.short_name + ") " + e.help);
  }
  return out.str();
}

}  // namespace tapir
