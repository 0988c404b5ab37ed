// Command line of worldpm_gpu_bench:
//
//   worldpm_gpu_bench [--quick] [--reps N] [--warmup N] [--filter SUBSTRING] [--json] [--warm-l2]
//
//   --quick      5 repetitions after 1 warm-up, GEMM ceilings at 4096^3 (default: 25 after 3, 8192^3)
//   --reps N     timed repetitions per kernel, 1..200 (each has its own event pair)
//   --warmup N   untimed launches before them, 0..100
//   --filter S   only the kernels whose launcher name (kernels.h) contains S; the ceilings always run
//   --json       one JSON object per line (device, each ceiling, each kernel) instead of the table
//   --warm-l2    skip the L2 flush before each repetition (timer.h)
#pragma once

#include <string>

namespace gpubench {

struct Options {
  bool quick = false, json = false, warm_l2 = false;
  int reps = 25, warmup = 3;
  std::string filter;
};

// false with *error set on a bad command line.
bool parse_options(int argc, char** argv, Options* options, std::string* error);
const char* usage();

}  // namespace gpubench
