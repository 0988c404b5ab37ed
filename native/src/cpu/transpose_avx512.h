// A 16 x 16 f32 block transposed in zmm registers: what the CPU attention's
// K^T (and the backward's V^T) copies are made of where the CPU has AVX-512.
// A scalar transpose through a strip (attention.cpp) took 6% of the fused
// forward; this is about 1/8 of the instructions per element.
#pragma once

#include <cstdint>

namespace wpm {

// dst[c * dst_stride + r] = src[r * src_stride + c] for r, c < 16. Only where cpu_features().avx512f.
void transpose16_avx512(const float* src, int64_t src_stride, float* dst, int64_t dst_stride);

}  // namespace wpm
