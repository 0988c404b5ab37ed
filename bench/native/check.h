// The native benchmarks' error handling: a failed C ABI call ends the program
// with the call and the library's message (a benchmark has nothing to recover).
#pragma once

#include <cstdint>
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

// A CPU-backend context with `threads` threads (0: the default); *nthreads and *info say what it got.
inline wpm_context* open_cpu_context(const char* program, int threads, int32_t* nthreads, wpm_backend_info* info) {
  wpm_context_options options{sizeof options, WPM_BACKEND_CPU, threads, 0};
  wpm_context* ctx = nullptr;
  check(wpm_context_create(&options, &ctx), program, "wpm_context_create");
  check(wpm_context_num_threads(ctx, nthreads), program, "wpm_context_num_threads");
  *info = wpm_backend_info{sizeof *info};
  check(wpm_backend_query(WPM_BACKEND_CPU, info), program, "wpm_backend_query");
  return ctx;
}

}  // namespace wpm_bench
