// 16 x 16 transpose in three rounds of shuffles (see the header): 32-bit
// interleaves of row pairs, 64-bit interleaves of those, then two rounds of
// 128-bit lane shuffles; 64 shuffles for 256 elements, no memory round trip.
#include "transpose_avx512.h"

#include "exp2_avx512.h"  // WPM_AVX512

// GCC 12's avx512fintrin.h seeds the unpack intrinsics with an undefined
// vector and then warns about it (GCC bug 105593; see attention_fwd_avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace wpm {

#if defined(__x86_64__)

namespace {

WPM_AVX512 inline __m512 interleave64_lo(__m512 a, __m512 b) {
  return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}
WPM_AVX512 inline __m512 interleave64_hi(__m512 a, __m512 b) {
  return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}

}  // namespace

WPM_AVX512 void transpose16_avx512(const float* src, int64_t src_stride, float* dst, int64_t dst_stride) {
  __m512 row[16], a[16], b[16];
  for (int r = 0; r < 16; ++r) row[r] = _mm512_loadu_ps(src + r * src_stride);
  // In every 128-bit lane L (columns 4L .. 4L + 3 of the rows): rows 2k, 2k + 1 interleaved.
  for (int k = 0; k < 8; ++k) {
    a[2 * k] = _mm512_unpacklo_ps(row[2 * k], row[2 * k + 1]);
    a[2 * k + 1] = _mm512_unpackhi_ps(row[2 * k], row[2 * k + 1]);
  }
  // b[4k + j], lane L: column 4L + j of rows 4k .. 4k + 3.
  for (int k = 0; k < 4; ++k) {
    b[4 * k] = interleave64_lo(a[4 * k], a[4 * k + 2]);
    b[4 * k + 1] = interleave64_hi(a[4 * k], a[4 * k + 2]);
    b[4 * k + 2] = interleave64_lo(a[4 * k + 1], a[4 * k + 3]);
    b[4 * k + 3] = interleave64_hi(a[4 * k + 1], a[4 * k + 3]);
  }
  // Column 4L + j gathers lane L of b[j], b[4 + j], b[8 + j], b[12 + j].
  for (int j = 0; j < 4; ++j) {
    const __m512 even_lo = _mm512_shuffle_f32x4(b[j], b[4 + j], 0x88);    // lanes 0, 2 of each: rows 0-7
    const __m512 odd_lo = _mm512_shuffle_f32x4(b[j], b[4 + j], 0xDD);     // lanes 1, 3
    const __m512 even_hi = _mm512_shuffle_f32x4(b[8 + j], b[12 + j], 0x88);  // rows 8-15
    const __m512 odd_hi = _mm512_shuffle_f32x4(b[8 + j], b[12 + j], 0xDD);
    _mm512_storeu_ps(dst + (j)*dst_stride, _mm512_shuffle_f32x4(even_lo, even_hi, 0x88));
    _mm512_storeu_ps(dst + (8 + j) * dst_stride, _mm512_shuffle_f32x4(even_lo, even_hi, 0xDD));
    _mm512_storeu_ps(dst + (4 + j) * dst_stride, _mm512_shuffle_f32x4(odd_lo, odd_hi, 0x88));
    _mm512_storeu_ps(dst + (12 + j) * dst_stride, _mm512_shuffle_f32x4(odd_lo, odd_hi, 0xDD));
  }
}

#else

void transpose16_avx512(const float*, int64_t, float*, int64_t) {}

#endif  // __x86_64__

}  // namespace wpm
