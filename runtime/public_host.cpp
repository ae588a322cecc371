// tapir::Host (<tapir/host.hpp>): the handle an app holds on a runtime::Host, passing each call
// through and giving interfaces in text.
#include <tapir/app.hpp>
#include <tapir/host.hpp>

#include "runtime/host.hpp"

namespace tapir {

Host::Host(const Options& options) : runtime_(std::make_unique<runtime::Host>(options.host())) {
  runtime_->set_owner(this);
}

// The runtime's destructor stops the loop and leaves the socket calls' registry.
Host::~Host() = default;

void Host::start() {
  runtime_->start();
}

void Host::stop() {
  runtime_->stop();
}

bool Host::running() const {
  return runtime_->running();
}

std::optional<std::string> Host::failure() const {
  return runtime_->failure();
}

void Host::print_stats(std::ostream& out) {
  runtime_->print_stats(out);
}

std::vector<InterfaceInfo> Host::interfaces() {
  std::vector<InterfaceInfo> list;
  for (const runtime::InterfaceInfo& itf : runtime_->interfaces()) {
    std::optional<std::string> address;
    if (itf.address) address = itf.address->to_string();
    list.push_back(InterfaceInfo{itf.name, address, itf.mac.to_string(), itf.mtu});
  }
  return list;
}

runtime::Host& Host::runtime() {
  return *runtime_;
}

}  // namespace tapir
