// What tapir's sample apps share besides the Host and the sockets: command-line checks, stop
// signals and the lines they print (see the runtime/ headers below).
#pragma once

#include "runtime/app_text.hpp"
#include "runtime/option_checks.hpp"
#include "runtime/options.hpp"
#include "runtime/stop_signals.hpp"
