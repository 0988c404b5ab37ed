// 2^x on 16 floats at once with AVX-512, for softmax arguments (x <= 0).
//
// x = n + f with n = round(x) and |f| <= 1/2; 2^f comes from its degree-6
// Taylor polynomial in f ln 2 (truncation error below 1.2e-7 relative, about
// one ulp), and vscalefps multiplies by 2^n, which handles the exponent
// without integer bit tricks. x is clamped at -126 first: -inf (a masked
// score) then gives a finite f, and no result is subnormal (2^-126, the
// smallest normal float, for anything below), since a subnormal result costs
// a microcode assist on Intel cores unless flush-to-zero is on. Callers zero
// masked lanes themselves. Accuracy against float64 is checked in
// tests/native/exp2_avx512_test.cpp.
//
// Only for code compiled or attributed for AVX-512 (WPM_AVX512); callers
// check cpu_features().avx512f first.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#define WPM_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma,bmi2")))

namespace wpm {

WPM_AVX512 inline __m512 exp2_avx512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-126.0f));
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(x, n);
  // (f ln 2)^k / k! for k = 6 .. 0, evaluated by Horner's rule.
  __m512 p = _mm512_set1_ps(1.5403530393381608e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3333558146428443e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6181291076284772e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5504108664821580e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022650695910071e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314718055994531e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

}  // namespace wpm

#endif  // __x86_64__
