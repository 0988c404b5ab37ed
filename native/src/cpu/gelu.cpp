// GELU on the CPU, forward and backward, tanh and exact forms.
//
//   x, out, dout, dx [n], f32 / f16 / bf16 storage, fp32 math.
//   tanh:  gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//          computed as x * sigmoid(2u) (the same function: 0.5 (1 + tanh(u)) =
//          sigmoid(2u)), which needs one exp and no tanh; with
//          s = sigmoid(2u), 1 - s = e^-2u s:
//          gelu'(x) = s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
//   exact: gelu(x) = x Phi(x),  gelu'(x) = Phi(x) + x phi(x),
//          Phi(x) = 0.5 (1 + erf(x / sqrt 2)), phi the normal density.
//
// One pass over memory, threads over contiguous chunks, fp32 inner loops
// vectorised with runtime ISA dispatch (elementwise.h). The tanh form uses
// exp_fast (relative error ~2e-7); the exact form a branch-free erf
// (Abramowitz & Stegun 7.1.26, absolute error <= 1.5e-7), so both vectorise.
// On AVX-512 CPUs the f32 tanh form has its own loop (avx512_map.h): no
// division (rcp14 + one Newton step), constants folded into one exp2 of 9
// instructions, two vectors a step, inputs prefetched 4 KiB ahead, and
// streaming stores for an output of 8 MiB or more (streaming_store.h).
//
// Cost: memory-bound, 2n elements moved forward (x read, out written) and 3n
// backward (dout and x read, dx written); the AVX-512 tanh loop's arithmetic
// (16 vector instructions per 16 elements) stays below that memory time on
// two cores, so it runs at the copy rate. Current: W1 forward 81% and
// backward 83% of the same run's copy rate; bench/RESULTS.md has the runs and
// what each step of the loop (and erf_fast against std::erf) bought.
#include <cmath>

#include "avx512_map.h"
#include "cpu_backend.h"
#include "cpu_features.h"
#include "elementwise.h"
#include "streaming_store.h"

namespace wpm {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

WPM_SIMD_CLONES void gelu_tanh_fwd_f32(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
    out[i] = v * (1.0f / (1.0f + exp_fast(-2.0f * u)));
  }
}

WPM_SIMD_CLONES void gelu_tanh_bwd_f32(const float* dout, const float* x, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float u = kSqrt2OverPi * (v + kCubic * v * v * v);
    const float e = exp_fast(-2.0f * u);
    const float s = 1.0f / (1.0f + e);
    const float du = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
    dx[i] = dout[i] * (s + 2.0f * v * (e * s * s) * du);
  }
}

// erf(z) by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7) on |z|, sign restored
// with copysign: no branch and no library call, so the loop vectorises. In GELU the
// absolute error of erf becomes a relative error of about 1.5e-7 of x Phi(x)'s scale.
inline float erf_fast(float z) {
  const float a = std::fabs(z);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  return std::copysign(1.0f - p * t * exp_fast(-a * a), z);
}

WPM_SIMD_CLONES void gelu_exact_fwd_f32(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = 0.5f * x[i] * (1.0f + erf_fast(x[i] * kInvSqrt2));
}

WPM_SIMD_CLONES void gelu_exact_bwd_f32(const float* dout, const float* x, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + erf_fast(v * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * exp_fast(-0.5f * v * v);
    dx[i] = dout[i] * (cdf + v * pdf);
  }
}

// The tanh form in fp32 on AVX-512 CPUs: the formulas of the loops above with
// the constants folded, -2u log2(e) = x (a + b x^2), so e^-2u is one exp2_16;
// the division is reciprocal16. The operations keep the same shape, so inf and
// NaN come out as there (+inf -> +inf, -inf -> -inf, NaN -> NaN).
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kExp2A = -2.0f * kSqrt2OverPi * kLog2e;           // -2u log2 e = x (A + B x^2)
constexpr float kExp2B = -2.0f * kSqrt2OverPi * kCubic * kLog2e;
constexpr float kDu2A = 2.0f * kSqrt2OverPi;                      // 2 du/dx = A' + B' x^2
constexpr float kDu2B = 2.0f * kSqrt2OverPi * 3.0f * kCubic;

// e^-2u and s = sigmoid(2u) = 1 / (1 + e^-2u).
struct ExpAndSigmoid16 {
  __m512 e, s;
};

WPM_AVX512 ExpAndSigmoid16 exp_and_sigmoid16(__m512 v, __m512 v2) {
  const __m512 e = exp2_16(_mm512_mul_ps(v, _mm512_fmadd_ps(_mm512_set1_ps(kExp2B), v2, _mm512_set1_ps(kExp2A))));
  return {e, reciprocal16(_mm512_add_ps(_mm512_set1_ps(1.0f), e))};
}

struct GeluTanhFwd16 {
  WPM_AVX512 __m512 operator()(const __m512* in) const {
    const __m512 v = in[0];
    return _mm512_mul_ps(v, exp_and_sigmoid16(v, _mm512_mul_ps(v, v)).s);
  }
};

struct GeluTanhBwd16 {
  WPM_AVX512 __m512 operator()(const __m512* in) const {
    const __m512 dout = in[0], v = in[1], v2 = _mm512_mul_ps(v, v);
    const ExpAndSigmoid16 es = exp_and_sigmoid16(v, v2);
    // s + 2 v (e s s) du
    const __m512 two_v_du = _mm512_mul_ps(v, _mm512_fmadd_ps(_mm512_set1_ps(kDu2B), v2, _mm512_set1_ps(kDu2A)));
    const __m512 ess = _mm512_mul_ps(_mm512_mul_ps(es.e, es.s), es.s);
    return _mm512_mul_ps(dout, _mm512_fmadd_ps(two_v_du, ess, es.s));
  }
};

WPM_AVX512_TARGET void gelu_tanh_fwd_avx512(const float* x, float* out, int64_t n, bool stream) {
  map16<1>({x}, out, n, stream, GeluTanhFwd16{});
}

WPM_AVX512_TARGET void gelu_tanh_bwd_avx512(const float* dout, const float* x, float* dx, int64_t n,
                                         bool stream) {
  map16<2>({dout, x}, dx, n, stream, GeluTanhBwd16{});
}

bool use_avx512(wpm_gelu_kind kind) {
  return kind == WPM_GELU_TANH && cpu_features().avx512f && cpu_features().avx512dq;
}

}  // namespace

wpm_status CpuBackend::gelu_fwd(const void* x, void* out, int64_t n, wpm_gelu_kind kind, wpm_dtype dtype) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>) {
      if (use_avx512(kind)) {
        const bool stream = worth_streaming(size_t(n) * sizeof(float));
        pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
          gelu_tanh_fwd_avx512(static_cast<const float*>(x) + begin, static_cast<float*>(out) + begin, end - begin,
                               stream);
        });
        return WPM_OK;
      }
    }
    const std::array<const T*, 1> in{static_cast<const T*>(x)};
    const std::array<T*, 1> dst{static_cast<T*>(out)};
    auto kernel = kind == WPM_GELU_TANH ? gelu_tanh_fwd_f32 : gelu_exact_fwd_f32;
    pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
      apply_fp32(in, dst, begin, end, [&](const auto& i, const auto& o, int64_t len) { kernel(i[0], o[0], len); });
    });
    return WPM_OK;
  });
}

wpm_status CpuBackend::gelu_bwd(const void* dout, const void* x, void* dx, int64_t n, wpm_gelu_kind kind,
                                wpm_dtype dtype) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>) {
      if (use_avx512(kind)) {
        const bool stream = worth_streaming(size_t(n) * sizeof(float));
        pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
          gelu_tanh_bwd_avx512(static_cast<const float*>(dout) + begin, static_cast<const float*>(x) + begin,
                               static_cast<float*>(dx) + begin, end - begin, stream);
        });
        return WPM_OK;
      }
    }
    const std::array<const T*, 2> in{static_cast<const T*>(dout), static_cast<const T*>(x)};
    const std::array<T*, 1> dst{static_cast<T*>(dx)};
    auto kernel = kind == WPM_GELU_TANH ? gelu_tanh_bwd_f32 : gelu_exact_bwd_f32;
    pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
      apply_fp32(in, dst, begin, end,
                 [&](const auto& i, const auto& o, int64_t len) { kernel(i[0], i[1], o[0], len); });
    });
    return WPM_OK;
  });
}

}  // namespace wpm
