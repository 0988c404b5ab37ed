// SwiGLU on the CPU (the gate of the Qwen2 MLP), forward and backward.
//
//   gate, up, out, dout, dgate, dup [n], f32 / f16 / bf16 storage, fp32 math.
//   fwd:  out = silu(g) u,  silu(g) = g s,  s = sigmoid(g)
//   bwd:  dup = dout silu(g),  dgate = dout u s (1 + g (1 - s))
//
// One pass over memory, threads over contiguous chunks, fp32 inner loops
// vectorised with runtime ISA dispatch; sigmoid through exp_fast
// (elementwise.h, relative error ~2e-7).
#include "cpu_backend.h"
#include "elementwise.h"

namespace wpm {

namespace {

WPM_SIMD_CLONES void swiglu_fwd_f32(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g * sigmoid_fast(g) * up[i];
  }
}

WPM_SIMD_CLONES void swiglu_bwd_f32(const float* dout, const float* gate, const float* up, float* dgate,
                                    float* dup, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i], d = dout[i];
    const float s = sigmoid_fast(g);
    const float u = up[i];  // read before writing: dgate/dup may alias the inputs
    dup[i] = d * g * s;
    dgate[i] = d * u * s * (1.0f + g * (1.0f - s));
  }
}

}  // namespace

wpm_status CpuBackend::swiglu_fwd(const void* gate, const void* up, void* out, int64_t n, wpm_dtype dtype) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::array<const T*, 2> in{static_cast<const T*>(gate), static_cast<const T*>(up)};
    const std::array<T*, 1> dst{static_cast<T*>(out)};
    pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
      apply_fp32(in, dst, begin, end,
                 [](const auto& i, const auto& o, int64_t len) { swiglu_fwd_f32(i[0], i[1], o[0], len); });
    });
    return WPM_OK;
  });
}

wpm_status CpuBackend::swiglu_bwd(const void* dout, const void* gate, const void* up, void* dgate, void* dup,
                                  int64_t n, wpm_dtype dtype) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::array<const T*, 3> in{static_cast<const T*>(dout), static_cast<const T*>(gate),
                                     static_cast<const T*>(up)};
    const std::array<T*, 2> dst{static_cast<T*>(dgate), static_cast<T*>(dup)};
    pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
      apply_fp32(in, dst, begin, end, [](const auto& i, const auto& o, int64_t len) {
        swiglu_bwd_f32(i[0], i[1], i[2], o[0], o[1], len);
      });
    });
    return WPM_OK;
  });
}

}  // namespace wpm
