// Array conversions between fp32 and the half storage types, the inner loop of
// every f16/bf16 op on the CPU. f16 goes through F16C (vcvtph2ps / vcvtps2ph,
// round to nearest even, subnormals kept) when the CPU has it, chosen once at
// run time; the scalar half.h conversions are the portable fallback and the
// reference. bf16 is a 16-bit shift with rounding that plain loops vectorise.
//
// Current: reward-model ForwardBackward in fp16 55.1 ms against fp32's 23.5 ms
// (2026-11-24); bench/RESULTS.md has the figure before these conversions.
#pragma once

#include <cstdint>

#include "half.h"

namespace wpm {

void widen(const f16* src, float* dst, int64_t n);
void narrow(const float* src, f16* dst, int64_t n);
void widen(const bf16* src, float* dst, int64_t n);
void narrow(const float* src, bf16* dst, int64_t n);
inline void widen(const float* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}
inline void narrow(const float* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

}  // namespace wpm
