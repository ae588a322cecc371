// tapir's Host: one stack, its interfaces and its event-loop thread (see runtime/host.hpp).
#pragma once

#include "runtime/host.hpp"
#include "runtime/options.hpp"
