// The Host's side of <tapir/socket.hpp>: which Host the socket calls use.
#pragma once

namespace tapir {

namespace runtime {
class Host;
}

namespace socket_api {

// Host::start(): `host` becomes current_host() unless another Host already is.
void host_started(runtime::Host& host);
// Host::stop() and ~Host(): `host` stops being current_host() if it was.
void host_stopped(runtime::Host& host);

}  // namespace socket_api
}  // namespace tapir
