// Thread-local last-error message behind wpm_last_error(), and the one helper
// every entry point uses to fail: set the message, return the status.
#pragma once

#include "worldpm.h"

namespace wpm {

// printf-style; returns status so a failure reads `return fail(WPM_ERR_..., "...")`.
wpm_status fail(wpm_status status, const char* format, ...) __attribute__((format(printf, 2, 3)));
void clear_error();
const char* last_error();

}  // namespace wpm
