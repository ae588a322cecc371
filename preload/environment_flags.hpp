// The common flags of a preloaded process come from its environment: one variable per flag
// (TAPIR_TAP, TAPIR_IP, TAPIR_GW, ... named after the common-flag table) and TAPIR_ARGS for
// anything more (several interfaces or routes), read by the same parser, with the same one-line
// errors, as every tapir program's command line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tapir::preload {

// "--igmp-version" -> "TAPIR_IGMP_VERSION".
std::string variable_for(std::string_view flag);

// The words the environment says, as a command line: each TAPIR_<FLAG> set in the table's order
// (so TAPIR_IP follows TAPIR_TAP), a flag without a value for "1" (nothing for "0" or ""), then
// TAPIR_ARGS split at newlines if it has any (how tapir-run writes it, so that a value may hold
// spaces), else at spaces. Throws tapir::OptionError for a bad on/off value.
std::vector<std::string> flag_words_from_environment();

// Every variable that flag_words_from_environment() reads, TAPIR_ARGS included.
std::vector<std::string> flag_variables();

}  // namespace tapir::preload
