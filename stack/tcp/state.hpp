// The eleven connection states of RFC 9293 §3.3.2.
#pragma once

#include <cstdint>
#include <string_view>

namespace tapir::tcp {

enum class State : std::uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};

// The RFC's name: "SYN-SENT", "TIME-WAIT", ...
constexpr std::string_view name(State s) {
  switch (s) {
    case State::closed:
      return "CLOSED";
    case State::listen:
      return "LISTEN";
    case State::syn_sent:
      return "SYN-SENT";
    case State::syn_received:
      return "SYN-RECEIVED";
    case State::established:
      return "ESTABLISHED";
    case State::fin_wait_1:
      return "FIN-WAIT-1";
    case State::fin_wait_2:
      return "FIN-WAIT-2";
    case State::close_wait:
      return "CLOSE-WAIT";
    case State::closing:
      return "CLOSING";
    case State::last_ack:
      return "LAST-ACK";
    case State::time_wait:
      return "TIME-WAIT";
  }
  return "?";
}

// RFC 9293 §3.3.2: a synchronized state is one reached after the handshake's SYNs.
constexpr bool synchronized(State s) {
  return s != State::closed && s != State::listen && s != State::syn_sent &&
         s != State::syn_received;
}

}  // namespace tapir::tcp
