// The control protocol's commands (docs/TAPIRCTL.md): one request line in, reply text out.
#pragma once

#include <string>

namespace tapir::runtime {

class Host;

// Runs on the Host's loop thread, outside the Host lock (the commands take it themselves).
// A reply that starts with "error: " is a failure tapirctl reports on stderr.
std::string answer_control(Host& host, const std::string& request);

}  // namespace tapir::runtime
