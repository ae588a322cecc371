// Name resolution for a program whose IPv4 is tapir's. getaddrinfo() itself stays the C
// library's (numeric hosts, /etc/hosts, and DNS through the kernel's sockets, since the C
// library's own calls are not interposed), with one change: AI_ADDRCONFIG asks whether the
// *kernel* has an IPv4 address, which says nothing of tapir's, so it is not passed on.
#include <netdb.h>

#include "preload/real_calls.hpp"

using namespace tapir::preload;

extern "C" {

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
  if (!hints || !(hints->ai_flags & AI_ADDRCONFIG)) {
    return real().getaddrinfo(node, service, hints, result);
  }
  addrinfo without = *hints;
  without.ai_flags &= ~AI_ADDRCONFIG;
  return real().getaddrinfo(node, service, &without, result);
}

}  // extern "C"
