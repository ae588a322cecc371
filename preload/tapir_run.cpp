// tapir-run: runs an unmodified Linux program with its AF_INET sockets on a tapir stack. It
// reads the common flags as every tapir program does (the same table, the same one-line
// errors), opens each interface once to be sure it can, then execs PROGRAM with
// libtapir-preload.so preloaded and the flags handed on in TAPIR_ARGS.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tapir/app.hpp>

#include "preload/environment_flags.hpp"
#include "runtime/host.hpp"

namespace {

constexpr const char* kProgram = "tapir-run";

[[noreturn]] void fail(int status, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kProgram, message.c_str());
  std::exit(status);
}

// The preload library: TAPIR_PRELOAD_LIBRARY if set, else where the build or the install put
// it beside this program (TAPIR_PRELOAD_RELATIVE: from the bin directory to the library).
std::string preload_library() {
  if (const char* path = std::getenv("TAPIR_PRELOAD_LIBRARY"); path && *path) return path;
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "libtapir-preload.so";  // the dynamic loader's own search
  std::string dir(self, static_cast<std::size_t>(n));
  dir.erase(dir.rfind('/'));
  return dir + "/" + TAPIR_PRELOAD_RELATIVE;
}

#if defined(__SANITIZE_ADDRESS__)
extern "C" void __asan_init();

// An AddressSanitizer build's preload library needs the ASan runtime loaded before every other
// library, which a program built without ASan does not do: it goes first in LD_PRELOAD (where
// this tapir-run, built with ASan too, has it). Leak checking is off, since the program's own
// leaks at exit (and the stack that the library never frees) would end it with an error.
void prepare_asan_preload(std::string& preload) {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&__asan_init), &info) != 0 && info.dli_fname) {
    preload = std::string(info.dli_fname) + ":" + preload;
  }
  const char* options = std::getenv("ASAN_OPTIONS");
  const std::string more = options && *options ? std::string(options) + ":" : std::string();
  ::setenv("ASAN_OPTIONS", (more + "detect_leaks=0").c_str(), 1);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  int separator = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      separator = i;
      break;
    }
  }
  const std::vector<std::string_view> flags(argv + 1, argv + separator);

  tapir::OptionParser parser(
      kProgram,
      "Runs PROGRAM [ARGS...], given after --, with its AF_INET sockets on a tapir stack\n"
      "configured by the flags below (docs/PRELOAD.md); everything else stays the kernel's.");
  std::optional<tapir::Options> options;
  try {
    options = parser.parse(flags);
  } catch (const tapir::OptionError& e) {
    // A program named without the -- before it reads as a stray argument: say what is missing.
    std::string line = e.what();
    if (separator == argc && line.starts_with("unexpected argument ") &&
        line.ends_with(" (try --help)")) {
      line.erase(line.size() - std::string_view(" (try --help)").size());
      line += "; expected -- before PROGRAM (try --help)";
    }
    fail(2, line);
  }
  if (options->host().help) {
    // The parser's usage lines end in "[flags]"; the program comes after them.
    std::string usage = parser.usage();
    for (std::size_t at = 0; (at = usage.find(" [flags]\n", at)) != std::string::npos;) {
      usage.insert(at + 8, " -- PROGRAM [ARGS...]");
      at += 30;
    }
    std::fputs(usage.c_str(), stdout);
    return 0;
  }
  if (separator == argc) fail(2, "expected -- PROGRAM [ARGS...] after the flags (try --help)");
  if (separator + 1 == argc) fail(2, "expected PROGRAM after -- (try --help)");

  // Open each interface now, so that a TAP that cannot be had (busy, no permission) is one
  // line here rather than an error from the program's first socket().
  try {
    tapir::runtime::Host probe(options->host());
  } catch (const std::exception& e) {
    fail(1, e.what());
  }

  const std::string library = preload_library();
  if (library.find('/') != std::string::npos && ::access(library.c_str(), R_OK) != 0) {
    fail(1, library + ": " + std::strerror(errno) + " (set TAPIR_PRELOAD_LIBRARY)");
  }

  // The flags go whole in TAPIR_ARGS, one word a line (a value may hold spaces); the single-flag
  // variables are cleared so that none left in the environment adds to them.
  for (const std::string& variable : tapir::preload::flag_variables()) ::unsetenv(variable.c_str());
  std::string words;
  for (std::string_view f : flags) {
    if (f.find('\n') != std::string_view::npos) {
      fail(2, "a flag holds a newline, which TAPIR_ARGS cannot carry");
    }
    words += f;
    words += '\n';
  }
  ::setenv("TAPIR_ARGS", words.c_str(), 1);
  std::string preload = library;
  if (const char* old = std::getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
#if defined(__SANITIZE_ADDRESS__)
  prepare_asan_preload(preload);
#endif
  ::setenv("LD_PRELOAD", preload.c_str(), 1);

  ::execvp(argv[separator + 1], argv + separator + 1);
  // As env(1): 127 when the program is not there, 126 when it cannot be run.
  const int error = errno;
  fail(error == ENOENT ? 127 : 126, std::string(argv[separator + 1]) + ": " + std::strerror(error));
}
