// The device's own ceilings, measured in the same run as the kernels:
//
//   GEMM  cuBLASLt through the library's own wrapper (native/src/cuda/cublaslt.cpp,
//         Cublas::gemm: the C ABI's row-major GEMM, fp32 compute for every dtype), square
//         n^3 (n = 8192, or 4096 with --quick), C = A B, in bf16 and f16 (tensor cores, fp32
//         accumulate) and f32 (fp32 math, no TF32). FLOPs = 2 n^3.
//   copy  cudaMemcpyAsync device to device of 1 GiB; bytes = 2 * 1 GiB (read + written),
//         the same convention as the kernels' byte counts.
//
// Each through Timer (warm-up, per-repetition event pairs, median). A ceiling that cannot
// be measured (cuBLASLt missing, out of memory) is reported as a failure and left NaN.
#pragma once

#include "bench.h"
#include "work.h"

namespace gpubench {

Ceilings measure_ceilings(Bench& bench, Timer& timer, Report& report, bool quick);

}  // namespace gpubench
