// Upward delivery: how a layer hands what arrived (or a problem it met) to the one above
// without naming it. The layer above registers a handler; stack.cpp does all the wiring.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace tapir {

// One handler for one kind of event (ARP gave up on an address, IP has an error to report).
// Calling it with no handler registered does nothing and returns R{}.
template <typename Signature>
class Hook;

template <typename R, typename... Args>
class Hook<R(Args...)> {
 public:
  using Handler = std::function<R(Args...)>;

  void set(Handler handler) { handler_ = std::move(handler); }
  explicit operator bool() const { return static_cast<bool>(handler_); }
  R operator()(Args... args) const {
    if (!handler_) return R{};
    return handler_(std::forward<Args>(args)...);
  }

 private:
  Handler handler_;
};

// Handlers chosen by a key in the data (EtherType, IP protocol, the protocol an ICMP error
// quotes): Xinu's demultiplexing switch, as a table the layers above fill in.
template <typename Key, typename Signature>
class Demux;

template <typename Key, typename R, typename... Args>
class Demux<Key, R(Args...)> {
 public:
  using Handler = std::function<R(Args...)>;

  // A second handler for the same key replaces the first.
  void add(Key key, Handler handler) {
    for (auto& [k, h] : handlers_) {
      if (k == key) {
        h = std::move(handler);
        return;
      }
    }
    handlers_.emplace_back(key, std::move(handler));
  }
  // nullptr when nobody registered for `key`. A handful of keys: a scan beats a hash.
  const Handler* find(Key key) const {
    for (const auto& [k, h] : handlers_) {
      if (k == key) return &h;
    }
    return nullptr;
  }

 private:
  std::vector<std::pair<Key, Handler>> handlers_;
};

}  // namespace tapir
