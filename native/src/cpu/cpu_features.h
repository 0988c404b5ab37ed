// Run-time CPU feature detection: which SIMD paths the CPU backend may take,
// capped by WORLDPM_CPU_MAX_ISA (avx2, baseline) when that is set.
#pragma once

namespace wpm {

struct CpuFeatures {
  bool avx2, fma, avx512f, avx512dq, avx512bf16;
};

const CpuFeatures& cpu_features();
// Space-separated names of the features in use, e.g. "avx2 fma avx512f".
const char* cpu_features_string();

}  // namespace wpm
