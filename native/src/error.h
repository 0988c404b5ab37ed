// Thread-local last error behind wpm_last_error() and wpm_last_error_argument(),
// and the helpers every entry point uses to fail: set the message (and the
// argument it is about), return the status.
#pragma once

#include "worldpm.h"

namespace wpm {

// printf-style; returns status so a failure reads `return fail(WPM_ERR_..., "...")`.
// For failures about no single argument (a backend or a peer failed, memory ran out).
wpm_status fail(wpm_status status, const char* format, ...) __attribute__((format(printf, 2, 3)));
// Same, about one argument: `argument` is its name as worldpm.h spells it (a parameter, or a field
// of a parameter struct), and the one source of wpm_last_error_argument(); the message names it too.
wpm_status fail_argument(wpm_status status, const char* argument, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
void clear_error();
// The C ABI function this thread is in (set by each entry point's Checker), for failures found below the
// boundary that must name the call (a forbidden call during graph capture); "" outside any.
void set_entry_point(const char* function);
const char* entry_point();
const char* last_error();
const char* last_error_argument();

}  // namespace wpm
