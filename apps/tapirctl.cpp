// tapirctl: asks a running tapir program, through its control socket /run/tapir/NAME.sock,
// for its state (docs/TAPIRCTL.md). Usage: tapirctl [-n NAME] COMMAND [ARGS...]
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// Where the programs put their sockets (runtime/control/server.cpp's control_dir()).
std::string control_dir() {
  const char* dir = std::getenv("TAPIR_CTL_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/run/tapir";
}

constexpr const char* kUsage =
    "usage: tapirctl [-n NAME] COMMAND\n"
    "  list                       the running tapir programs (their --name)\n"
    "  stats [-w [SECONDS]]       MIB counters; -w: every SECONDS (1), what changed, as deltas\n"
    "  neigh                      the ARP cache, as ip neigh\n"
    "  route [show]               the routing table, as ip route\n"
    "  route add PREFIX via GW    add a route (PREFIX may be default)\n"
    "  route del PREFIX           remove one\n"
    "  addr                       interfaces, as ip addr\n"
    "  ss                         TCP and UDP sockets, as ss -tuna, with TCP's cwnd, rtt, rto\n"
    "  trace LAYERS on|off        switch --trace LAYERS at run time (lines on its stderr)\n"
    "  ping                       is it answering?\n"
    "NAME may be left out when one program runs.\n";

int fail(const std::string& message) {
  std::cerr << "tapirctl: " << message << "\n";
  return 1;
}

// A connected socket to NAME's control socket, or -1 (errno set).
int connect_to(const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = control_dir() + "/" + name + ".sock";
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

// The running programs: each socket in /run/tapir that accepts a connection. A socket file
// nobody listens on is left by a program that died; it is removed.
std::vector<std::string> running_programs() {
  std::vector<std::string> names;
  DIR* dir = ::opendir(control_dir().c_str());
  if (dir == nullptr) return names;
  while (const dirent* e = ::readdir(dir)) {
    std::string file = e->d_name;
    const std::string suffix = ".sock";
    if (file.size() <= suffix.size() ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string name = file.substr(0, file.size() - suffix.size());
    const int fd = connect_to(name);
    if (fd < 0) {
      if (errno == ECONNREFUSED) (void)::unlink((control_dir() + "/" + file).c_str());
      continue;
    }
    ::close(fd);
    names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// Sends `request` to `name`, returns its reply; false (message on stderr) when it cannot.
bool ask(const std::string& name, const std::string& request, std::string& reply) {
  const int fd = connect_to(name);
  if (fd < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) {
      fail("no tapir program named " + name + " is running (tapirctl list shows those that are)");
    } else {
      fail(name + ": " + std::strerror(errno));
    }
    return false;
  }
  const std::string line = request + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    fail(name + ": " + std::strerror(errno));
    ::close(fd);
    return false;
  }
  reply.clear();
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

// "name value" lines (tapirctl stats) as a map.
std::map<std::string, std::uint64_t> counters_of(const std::string& reply) {
  std::map<std::string, std::uint64_t> counters;
  std::istringstream in(reply);
  std::string name;
  for (std::uint64_t value = 0; in >> name >> value;) counters[name] = value;
  return counters;
}

// stats -w: every `interval` seconds, the counters that moved and by how much, until the
// program goes away (or tapirctl is interrupted).
int watch(const std::string& name, double interval) {
  std::string reply;
  if (!ask(name, "stats", reply)) return 1;
  auto before = counters_of(reply.substr(reply.find('\n') + 1));
  for (;;) {
    std::this_thread::sleep_for(std::chrono::duration<double>(interval));
    if (!ask(name, "stats", reply)) return 1;
    const auto now = counters_of(reply.substr(reply.find('\n') + 1));
    std::cout << "--- " << interval << " s\n";
    for (const auto& [counter, value] : now) {
      const auto it = before.find(counter);
      const std::uint64_t old = it == before.end() ? 0 : it->second;
      if (value != old) std::cout << counter << " +" << value - old << " (" << value << ")\n";
    }
    std::cout.flush();
    before = now;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string name;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (words.empty() && (arg == "-n" || arg == "--name")) {
      if (i + 1 >= argc) return fail(arg + " needs a NAME");
      name = argv[++i];
    } else if (words.empty() && (arg == "-h" || arg == "--help")) {
      std::cout << kUsage;
      return 0;
    } else if (words.empty() && !arg.empty() && arg[0] == '-') {
      return fail("unknown option " + arg + " (tapirctl --help lists them)");
    } else {
      words.push_back(arg);
    }
  }
  if (words.empty()) return fail("no command (tapirctl --help lists them)");
  if (words[0] == "list") {
    if (words.size() != 1) return fail("list takes no arguments");
    for (const std::string& n : running_programs()) std::cout << n << "\n";
    return 0;
  }
  if (name.empty()) {
    const std::vector<std::string> names = running_programs();
    if (names.empty())
      return fail("no tapir program is running (nothing in " + control_dir() + ")");
    if (names.size() > 1) {
      std::string all;
      for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
      return fail("several tapir programs are running (" + all + "); choose one with -n NAME");
    }
    name = names[0];
  }
  if (words[0] == "stats" && words.size() >= 2 && words[1] == "-w") {
    double interval = 1.0;
    if (words.size() == 3) {
      char* end = nullptr;
      interval = std::strtod(words[2].c_str(), &end);
      if (*end != '\0' || !(interval >= 0.1 && interval <= 3600)) {
        return fail("stats -w: expected SECONDS from 0.1 to 3600, got \"" + words[2] + "\"");
      }
    } else if (words.size() > 3) {
      return fail("usage: stats [-w [SECONDS]]");
    }
    return watch(name, interval);
  }
  std::string request;
  for (const std::string& w : words) request += (request.empty() ? "" : " ") + w;
  std::string reply;
  if (!ask(name, request, reply)) return 1;
  if (reply.rfind("error: ", 0) == 0) {
    std::cerr << "tapirctl: " << name << ": " << reply.substr(7);
    return 1;
  }
  std::cout << reply;
  return 0;
}
