// tapirctl: asks a running tapir program, through its control socket /run/tapir/NAME.sock,
// for its state (docs/TAPIRCTL.md). Usage: tapirctl [-n NAME] COMMAND [ARGS...]
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* kDir = "/run/tapir";

int fail(const std::string& message) {
  std::cerr << "tapirctl: " << message << "\n";
  return 1;
}

// A connected socket to NAME's control socket, or -1 (errno set).
int connect_to(const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = std::string(kDir) + "/" + name + ".sock";
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
  DIR* dir = ::opendir(kDir);
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
      if (errno == ECONNREFUSED) (void)::unlink((std::string(kDir) + "/" + file).c_str());
      continue;
    }
    ::close(fd);
    names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  std::string name;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-n" || arg == "--name") {
      if (i + 1 >= argc) return fail(arg + " needs a NAME");
      name = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: tapirctl [-n NAME] list|stats|ping\n";
      return 0;
    } else if (words.empty() && !arg.empty() && arg[0] == '-') {
      return fail("unknown option " + arg);
    } else {
      words.push_back(arg);
    }
  }
  if (words.empty()) return fail("no command; try tapirctl list");
  if (words[0] == "list") {
    if (words.size() != 1) return fail("list takes no arguments");
    for (const std::string& n : running_programs()) std::cout << n << "\n";
    return 0;
  }
  if (name.empty()) {
    const std::vector<std::string> names = running_programs();
    if (names.empty()) return fail("no tapir program is running (nothing in /run/tapir)");
    if (names.size() > 1) {
      std::string all;
      for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
      return fail("several tapir programs are running (" + all + "); choose one with -n NAME");
    }
    name = names[0];
  }
  const int fd = connect_to(name);
  if (fd < 0) return fail(name + ": " + std::strerror(errno));
  std::string request;
  for (const std::string& w : words) request += (request.empty() ? "" : " ") + w;
  request += "\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return fail(name + ": " + std::strerror(errno));
  }
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (reply.rfind("error: ", 0) == 0) {
    std::cerr << "tapirctl: " << name << ": " << reply.substr(7);
    return 1;
  }
  std::cout << reply;
  return 0;
}
