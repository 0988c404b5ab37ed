// Output of worldpm_gpu_bench: a table in the style of `worldpm bench`, or
// with --json one JSON object per line (the device, each ceiling, each kernel). Failures
// go to stderr in both modes, so stdout stays parseable.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "timer.h"
#include "work.h"

namespace gpubench {

class Report {
 public:
  explicit Report(bool json) : json_(json) {}

  void device(int index, const cudaDeviceProp& prop, int sm_clock_khz, int mem_clock_khz, int bus_bits,
              int driver_version, int runtime_version);
  void gemm_ceiling(kdtype dtype, int64_t n, const Timing& t, double tflops);
  void copy_ceiling(size_t bytes, const Timing& t, double gbps);
  // rate: TFLOP/s or GB/s; fraction: rate / ceiling (NaN when the ceiling is missing).
  void kernel(const Work& w, const Timing& t, double rate, double fraction);
  void failure(const std::string& what, const std::string& message);

 private:
  bool json_;
  bool header_printed_ = false;
};

}  // namespace gpubench
