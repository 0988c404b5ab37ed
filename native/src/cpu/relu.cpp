// ReLU on the CPU: out = max(x, 0); dx = dout where x > 0, else 0 (the derivative
// at 0 is taken as 0, as PyTorch does). One pass, fp32 loops vectorised with
// runtime ISA dispatch (elementwise.h); NaN inputs give NaN outputs.
#include "cpu_backend.h"
#include "elementwise.h"

namespace wpm {

namespace {

WPM_SIMD_CLONES void relu_fwd_f32(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] > 0.0f || x[i] != x[i] ? x[i] : 0.0f;
}

WPM_SIMD_CLONES void relu_bwd_f32(const float* dout, const float* x, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dout[i] : 0.0f;
}

}  // namespace

wpm_status CpuBackend::relu_fwd(const void* x, void* out, int64_t n, wpm_dtype dtype) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::array<const T*, 1> in{static_cast<const T*>(x)};
    const std::array<T*, 1> dst{static_cast<T*>(out)};
    pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
      apply_fp32(in, dst, begin, end, [](const auto& i, const auto& o, int64_t len) { relu_fwd_f32(i[0], o[0], len); });
    });
    return WPM_OK;
  });
}

wpm_status CpuBackend::relu_bwd(const void* dout, const void* x, void* dx, int64_t n, wpm_dtype dtype) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::array<const T*, 2> in{static_cast<const T*>(dout), static_cast<const T*>(x)};
    const std::array<T*, 1> dst{static_cast<T*>(dx)};
    pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
      apply_fp32(in, dst, begin, end,
                 [](const auto& i, const auto& o, int64_t len) { relu_bwd_f32(i[0], i[1], o[0], len); });
    });
    return WPM_OK;
  });
}

}  // namespace wpm
