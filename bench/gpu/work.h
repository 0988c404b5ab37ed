// What one timed row measures: the launcher, its dtype and shape, and the amount of work
// (FLOPs for a compute-bound kernel, bytes for a memory-bound one) counted by the formula
// the kernel's header states, with that formula carried along so the report can show it.
//
// Compute-bound rows are compared with the cuBLASLt GEMM ceiling of their dtype (bf16 /
// f16: tensor cores with fp32 accumulate; f32: fp32 without TF32), memory-bound rows
// with the device-to-device copy ceiling (bytes read + written).
#pragma once

#include <string>

#include "kernels.h"

namespace gpubench {

enum class Bound { compute, memory };

struct Work {
  std::string kernel;   // the launcher's name in kernels.h
  std::string dtype;    // storage dtype(s), e.g. "bf16", "f32->bf16", "bf16 grad+work"
  std::string shape;
  Bound bound;
  kdtype gemm_dtype;    // compute-bound: the GEMM ceiling compared against (unused for memory)
  double amount;        // FLOPs or bytes
  std::string formula;  // how `amount` was counted
};

inline Work compute_work(std::string kernel, kdtype dtype, std::string dtype_label, std::string shape, double flops,
                         std::string formula) {
  return {std::move(kernel), std::move(dtype_label), std::move(shape), Bound::compute, dtype, flops,
          std::move(formula)};
}

inline Work memory_work(std::string kernel, std::string dtype_label, std::string shape, double bytes,
                        std::string formula) {
  return {std::move(kernel), std::move(dtype_label), std::move(shape), Bound::memory, kdtype::f32, bytes,
          std::move(formula)};
}

// The ceilings measured at the start of the run; NaN where a measurement failed (the
// fractions then print as n/a).
struct Ceilings {
  double gemm_tflops[3];  // indexed by kdtype: f32, f16, bf16
  double copy_gbps;
};

}  // namespace gpubench
