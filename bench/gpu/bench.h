// The context every kernel family's suite runs in: the stream, the timer, the report, the
// ceilings and the filter. A suite allocates its inputs (random, on the device), then calls
// measure() once per row with a callback that enqueues exactly one repetition through the
// kernel's own launcher.
#pragma once

#include <cuda_runtime_api.h>

#include <cmath>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "options.h"
#include "report.h"
#include "timer.h"
#include "work.h"

namespace gpubench {

// The CUDA context is broken (a sticky error): nothing else can run in this process.
struct ContextBroken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Bench {
 public:
  Bench(const Options& options, Timer& timer, Report& report)
      : options_(options), timer_(timer), report_(report) {}

  // The ceilings the fractions are taken of (measure_ceilings, ceilings.h); NaN until set.
  void set_ceilings(const Ceilings& ceilings) { ceilings_ = ceilings; }

  // Whether the filter keeps any of these launchers (a suite skips its allocations otherwise).
  bool wants(std::initializer_list<const char*> kernels) const;
  cudaStream_t stream() const { return timer_.stream(); }
  uint64_t next_seed() { return seed_++; }

  // Times `launch` (filtered by w.kernel) and reports the row. A failure is reported and
  // counted, and the run goes on; ContextBroken is thrown when CUDA cannot go on.
  void measure(const Work& w, const std::function<void()>& launch);
  // A failure outside measure() (a suite's allocations or set-up).
  void fail(const std::string& what, const std::string& message);
  // Runs a block of set-up and measure() calls; a BenchError escaping it is fail(what, ...).
  void guarded(const std::string& what, const std::function<void()>& body);

  int failures() const { return failures_; }

 private:
  const Options& options_;
  Timer& timer_;
  Report& report_;
  Ceilings ceilings_{{NAN, NAN, NAN}, NAN};
  uint64_t seed_ = 1;
  int failures_ = 0;
};

}  // namespace gpubench
