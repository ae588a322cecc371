// The apps see the public API only: what include/tapir/ and apps/ include, read from the source
// tree, never names the stack, the drivers or the runtime (their build would refuse a plain
// "stack/..." include; this also catches one that climbs there with "../").
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// The source tree, from CMake: __FILE__ is relative to the build directory when ccache's
// CCACHE_BASEDIR rewrites paths, so it cannot be climbed from.
const fs::path kSource = TAPIR_SOURCE_DIR;

// What each #include line of the C++ files under `dir` names: "<tapir/host.hpp>", "\"x.hpp\"".
std::vector<std::pair<fs::path, std::string>> includes_under(const fs::path& dir) {
  std::vector<std::pair<fs::path, std::string>> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const fs::path& file = entry.path();
    if (file.extension() != ".cpp" && file.extension() != ".hpp") continue;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      const auto start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line.compare(start, 8, "#include") != 0) continue;
      const auto name = line.find_first_of("<\"", start + 8);
      if (name != std::string::npos) found.emplace_back(file, line.substr(name));
    }
  }
  return found;
}

bool names_internals(const std::string& include) {
  for (const char* part : {"stack/", "drivers/", "runtime/", "../"}) {
    if (include.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the public headers include only system headers and each other", "[apps]") {
  const auto includes = includes_under(kSource / "include" / "tapir");
  REQUIRE_FALSE(includes.empty());
  for (const auto& [file, include] : includes) {
    INFO(file.string() << ": #include " << include);
    CHECK(include.front() == '<');
    CHECK_FALSE(names_internals(include));
  }
}

TEST_CASE("the apps include no stack, driver or runtime header", "[apps]") {
  const auto includes = includes_under(kSource / "apps");
  REQUIRE_FALSE(includes.empty());
  for (const auto& [file, include] : includes) {
    INFO(file.string() << ": #include " << include);
    CHECK_FALSE(names_internals(include));
  }
}
