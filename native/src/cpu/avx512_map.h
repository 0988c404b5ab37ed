// AVX-512 building blocks for elementwise fp32 kernels that the compiler's own
// vectorisation of elementwise.h does not reach:
//
// - exp2_16 / reciprocal16: 2^y and 1/d on 16 lanes. The reciprocal is vrcp14ps
//   (14 bits) refined by one Newton step to ~1 ulp, instead of vdivps, which
//   issues once per 10-16 cycles on recent Xeons and bounded GELU's loop.
//   exp2_16 is 9 instructions: a one-op clamp (vrangeps), the fraction in one
//   op (vreduceps), a degree-5 minimax polynomial and vscalefps.
// - map16: out[i] = op(in_0[i], .., in_K-1[i]) over n elements, two 16-lane
//   vectors a step, masked loads and stores for the ends (no scalar tail), and
//   optional streaming stores for an output that is not read back soon
//   (streaming_store.h says why those pay).
//
// Everything here needs AVX-512F and AVX-512DQ (vrangeps, vreduceps): callers
// check cpu_features().avx512f and .avx512dq first and keep a portable path.
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

#define WPM_AVX512_TARGET __attribute__((target("avx512f,avx512dq")))
#define WPM_AVX512 WPM_AVX512_TARGET __attribute__((always_inline)) inline

namespace wpm {
namespace {

// 2^y for y clamped to +-125.9 (= +-87.3 log2 e, elementwise.h's exp_fast
// clamp, so 2^y stays normal, 1 + 2^y never overflows and its reciprocal stays
// normal; a quiet NaN in gives 2^125.9, finite, and callers multiply by their
// NaN input). y = k + f with k = floor(y), f in [0, 1):
// vreduceps gives f exactly in one op and vscalefps multiplies by 2^floor(y)
// itself, so k is never formed. 2^f is a degree-5 minimax polynomial for the
// relative error on [0, 1] (Remez, float64: 7.5e-8; evaluated in fp32, max
// 1.5e-7 over 4M random y in [-125, 125]), which is as good as the degree-6 Taylor polynomial on [-1/2, 1/2]
// that this replaced, one FMA shorter. The clamp is one vrangeps: the operand
// of smaller magnitude, with y's sign. A caller that needs e^x folds log2 e
// into its own constants, which saves the multiply and the two-part ln2
// reduction of an e^x. 16 vector instructions against the 19 of the clamp,
// roundscale and degree-6 form (bench/RESULTS.md has the GELU timings of both).
WPM_AVX512 __m512 exp2_16(__m512 y) {
  y = _mm512_range_ps(y, _mm512_set1_ps(125.9f), 0x02);  // imm: [1:0] = 10 min |.|, [3:2] = 00 sign of y
  const __m512 f = _mm512_reduce_ps(y, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);  // y - floor(y)
  __m512 p = _mm512_set1_ps(1.877576700019989e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(8.989340023581907e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.58263181162335e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4015361702112634e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931530732026261e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.999999250635878e-1f));
  return _mm512_scalef_ps(p, y);  // p 2^floor(y)
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

// 4 KiB ahead: the hardware streamer does not cross 4 KiB pages and ramps up
// again on each one. 4 KiB ahead of both input lines did best of 2-16 KiB in
// the GELU tanh forward (bench/RESULTS.md has the distances tried).
constexpr int64_t kPrefetchAhead = 1024;

WPM_AVX512 void store16(float* out, __m512 v, bool stream) {
  if (stream) _mm512_stream_ps(out, v);
  else _mm512_storeu_ps(out, v);
}

// Runs op over n elements of the K inputs, writing out. op is a functor whose
// `__m512 operator()(const __m512* v) const` (v[0..K) the inputs) carries WPM_AVX512.
// With stream, the output goes through streaming stores from its first 64-byte
// boundary on (fenced before returning). out may alias an input element for
// element: each step loads before it stores. Two vectors a step, both
// computed before either is stored, which keeps two independent dependency
// chains in flight (bench/RESULTS.md has the GELU timings). Each step also
// prefetches its inputs kPrefetchAhead floats ahead (prefetches never fault,
// so running past the end is harmless).
template <size_t K, class Op>
WPM_AVX512 void map16(const std::array<const float*, K>& in, float* out, int64_t n, bool stream, const Op& op) {
  int64_t i = 0;
  if (stream) {
    const int64_t head = std::min<int64_t>(n, int64_t((64 - reinterpret_cast<uintptr_t>(out) % 64) % 64) / 4);
    const __mmask16 mask = __mmask16((1u << head) - 1);
    _mm512_mask_storeu_ps(out, mask, apply16(in, 0, mask, op));
    i = head;
  }
  for (; i + 32 <= n; i += 32) {
    for (size_t k = 0; k < K; ++k) {
      _mm_prefetch(reinterpret_cast<const char*>(in[k] + i + kPrefetchAhead), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(in[k] + i + kPrefetchAhead + 16), _MM_HINT_T0);
    }
    const __m512 a = apply16(in, i, 0xffff, op), b = apply16(in, i + 16, 0xffff, op);
    store16(out + i, a, stream);
    store16(out + i + 16, b, stream);
  }
  if (i + 16 <= n) {
    store16(out + i, apply16(in, i, 0xffff, op), stream);
    i += 16;
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
