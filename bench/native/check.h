// The native benchmarks' error handling: a failed C ABI call ends the program
// with the call and the library's message (a benchmark has nothing to recover).
#pragma once

#include <cstdio>
#include <cstdlib>

#include "worldpm.h"

namespace wpm_bench {

inline void check(wpm_status status, const char* program, const char* what) {
  if (status != WPM_OK) {
    std::fprintf(stderr, "%s: %s failed: %s\n", program, what, wpm_last_error());
    std::exit(1);
  }
}

}  // namespace wpm_bench
