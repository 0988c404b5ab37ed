// AVX-512 building blocks for elementwise fp32 kernels that the compiler's own
// vectorisation of elementwise.h does not reach:
//
// - exp2_16 / reciprocal16: 2^y and 1/d on 16 lanes. The reciprocal is vrcp14ps
//   (14 bits) refined by one Newton step to ~1 ulp, instead of vdivps, which
//   issues once per 10-16 cycles on recent Xeons and bounded GELU's loop.
// - map16: out[i] = op(in_0[i], .., in_K-1[i]) over n elements, 16 lanes a
//   step, masked loads and stores for the ends (no scalar tail), and optional
//   streaming stores for an output that is not read back soon
//   (streaming_store.h says why those pay).
//
// Everything here needs AVX-512F: callers check cpu_features().avx512f first
// and keep a portable path.
#pragma once

// GCC 12's avx512fintrin.h fills the unused source of min/max/roundscale/
// scalef/rcp14 with _mm512_undefined_ps() and then warns about it wherever
// they are inlined; the value is never used.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#define WPM_AVX512 __attribute__((target("avx512f"), always_inline)) inline

namespace wpm {
namespace {

// 2^y for y clamped to +-125.9 (= +-87.3 log2 e, elementwise.h's exp_fast
// clamp, so 2^y stays normal and 1 + 2^y never overflows; NaN in gives a finite
// value, and callers multiply by their NaN input). y = k + f with k the nearest
// integer, |f| <= 1/2; 2^f by its degree-6 Taylor polynomial in f ln2
// (relative error < 2e-7); 2^k applied by vscalefps. A caller that needs e^x
// folds log2 e into its own constants, which saves the multiply and the
// two-part ln2 reduction of an e^x.
WPM_AVX512 __m512 exp2_16(__m512 y) {
  y = _mm512_max_ps(_mm512_min_ps(y, _mm512_set1_ps(125.9f)), _mm512_set1_ps(-125.9f));
  const __m512 k = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(y, k);
  __m512 p = _mm512_set1_ps(1.5403530393381606e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3333558146428443e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6181291076284772e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5504108664821580e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022650695910071e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314718055994531e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, k);
}

// 1 / d for normal d: r0 = rcp14(d), r = r0 + r0 (1 - d r0); relative error
// about 2^-28 before the final rounding.
WPM_AVX512 __m512 reciprocal16(__m512 d) {
  const __m512 r = _mm512_rcp14_ps(d);
  return _mm512_fmadd_ps(_mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r, r);
}

// op over the 16 elements from i of each input, lanes outside mask read as 0.
template <size_t K, class Op>
WPM_AVX512 __m512 apply16(const std::array<const float*, K>& in, int64_t i, __mmask16 mask, const Op& op) {
  __m512 v[K];
  for (size_t k = 0; k < K; ++k) v[k] = _mm512_maskz_loadu_ps(mask, in[k] + i);
  return op(v);
}

// Runs op over n elements of the K inputs, writing out. op is a functor whose
// `__m512 operator()(const __m512* v) const` (v[0..K) the inputs) carries WPM_AVX512.
// With stream, the output goes through streaming stores from its first 64-byte
// boundary on (fenced before returning). out may alias an input element for
// element: each step loads before it stores.
template <size_t K, class Op>
WPM_AVX512 void map16(const std::array<const float*, K>& in, float* out, int64_t n, bool stream, const Op& op) {
  int64_t i = 0;
  if (stream) {
    const int64_t head = std::min<int64_t>(n, int64_t((64 - reinterpret_cast<uintptr_t>(out) % 64) % 64) / 4);
    const __mmask16 mask = __mmask16((1u << head) - 1);
    _mm512_mask_storeu_ps(out, mask, apply16(in, 0, mask, op));
    for (i = head; i + 16 <= n; i += 16) _mm512_stream_ps(out + i, apply16(in, i, 0xffff, op));
  } else {
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, apply16(in, i, 0xffff, op));
  }
  if (i < n) {
    const __mmask16 mask = __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, mask, apply16(in, i, mask, op));
  }
  if (stream) _mm_sfence();
}

}  // namespace
}  // namespace wpm

#pragma GCC diagnostic pop
