// RoPE on the CPU: rotary position embedding in place, forward and backward.
//
//   x [B, T, H, D] (f32 / f16 / bf16, fp32 math), positions i32 [B, T] or null
//   (pos = t). The rotate-half layout of Qwen2 / Hugging Face: element i of a
//   head pairs with element i + D/2, and for i < D/2
//       angle_i = pos * theta^(-2i/D)
//       x_i       <- x_i cos - x_{i+D/2} sin
//       x_{i+D/2} <- x_{i+D/2} cos + x_i sin
//   sign = -1 (the backward) rotates by -angle: the transpose of the rotation.
//
// Angles are formed and reduced to [-pi, pi] in float64, then sin/cos are
// taken in fp32: accurate (~1e-7) at every position, where an fp32 angle
// (pos * inv_freq rounded to fp32, as Hugging Face computes it) is off by up
// to pos * 6e-8 radians. The sin/cos table of a token is built once and shared
// by its H heads; threads take contiguous blocks of tokens.
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "elementwise.h"

namespace wpm {

namespace {

constexpr double kTwoPi = 6.283185307179586;

WPM_SIMD_CLONES void rotate_f32(float* lo, float* hi, const float* cosv, const float* sinv, int64_t half) {
  for (int64_t i = 0; i < half; ++i) {
    const float a = lo[i], b = hi[i];
    lo[i] = a * cosv[i] - b * sinv[i];
    hi[i] = b * cosv[i] + a * sinv[i];
  }
}

}  // namespace

wpm_status CpuBackend::rope(void* x, const int32_t* positions, int64_t b, int64_t t, int64_t h, int64_t d,
                            float theta, float sign, wpm_dtype dtype) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* xs = static_cast<T*>(x);
    const int64_t half = d / 2;
    std::vector<double> inv_freq(half);
    for (int64_t i = 0; i < half; ++i) inv_freq[i] = std::pow(double(theta), -2.0 * double(i) / double(d));
    const int64_t tokens = b * t;
    const int64_t min_tokens = std::max<int64_t>(1, kElementwiseChunk / std::max<int64_t>(h * d, 1));
    const int chunks = pool_.chunk_count(tokens, min_tokens);
    // Per chunk: the cos and sin rows of its current token, plus one head in fp32 for f16/bf16.
    const size_t stride = size_t(half) * 2 + (std::is_same_v<T, float> ? 0 : size_t(d));
    std::vector<float> scratch(size_t(chunks) * stride);
    // parallel_for hands chunk i to worker i, so the worker index picks the scratch.
    pool_.parallel_for(tokens, min_tokens, [&](int64_t begin, int64_t end, int worker) {
      float* cosv = scratch.data() + size_t(worker) * stride;
      float* sinv = cosv + half;
      float* head = sinv + half;
      for (int64_t token = begin; token < end; ++token) {
        const double pos = positions ? double(positions[token]) : double(token % t);
        for (int64_t i = 0; i < half; ++i) {
          double angle = pos * inv_freq[i];
          angle -= kTwoPi * std::nearbyint(angle / kTwoPi);
          cosv[i] = std::cos(float(angle));
          sinv[i] = sign * std::sin(float(angle));
        }
        for (int64_t head_index = 0; head_index < h; ++head_index) {
          T* row = xs + (token * h + head_index) * d;
          if constexpr (std::is_same_v<T, float>) {
            rotate_f32(row, row + half, cosv, sinv, half);
          } else {
            to_float(row, head, d);
            rotate_f32(head, head + half, cosv, sinv, half);
            from_float(head, row, d);
          }
        }
      }
    });
    return WPM_OK;
  });
}

}  // namespace wpm
