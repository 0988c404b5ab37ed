// The register block's variants (see the header for the formula they share).
// AVX-512: a 6 x 64 block is 24 zmm accumulators, fed per k by one row of B
// (four loads, masked where the block is narrower than 64) and six
// broadcasts of A. AVX2: the block in strips of 6 x 16, 12 ymm accumulators
// fed per k by two loads of B and six broadcasts. None of them reorders an element's K products.
#include "register_block.h"

#include <algorithm>
#include <cmath>

#include "cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace wpm {
namespace register_block {

namespace {

// Row r of A; rows past the block's own point at its first row (computed, never stored), so that nothing
// outside A is read.
const float* a_row_of(const Block& s, int64_t r) { return s.a + (r < s.rows ? r : 0) * s.a_row; }

void block_scalar(const Block& s) {
  for (int64_t r = 0; r < s.rows; ++r) {
    const float* a = a_row_of(s, r);
    for (int64_t j = 0; j < s.cols; ++j) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < s.k; ++kk) acc = std::fma(a[kk * s.a_k], s.b[kk * s.ldb + j], acc);
      float out = s.alpha * acc;
      float* c = s.c + r * s.ldc + j;
      *c = s.beta == 0.0f ? out : std::fma(s.beta, *c, out);
    }
  }
}

#if defined(__x86_64__)

// One strip of 16 columns of the block (two ymm a row, 12 accumulators) over the whole of K, from column c0.
// Full: all 16 columns are inside B, read with plain loads; otherwise masked ones. As in the AVX-512 body
// below, every loop over acc is unrolled so that the array lives in registers (GCC 12 kept it on the stack:
// 20-27 GFLOP/s instead of OpenBLAS's 60-80 on a Zen 3 core), and A's rows advance by pointer.
template <bool Full>
__attribute__((target("avx2,fma"))) inline void strip_avx2(const Block& s, int64_t c0) {
  const int64_t left = s.cols - c0;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i mask[2] = {_mm256_cmpgt_epi32(_mm256_set1_epi32(int(left)), lane),
                           _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left - 8)), lane)};
  const int64_t a_k = s.a_k, ldb = s.ldb, k = s.k;
  const float* a_rows[kRows];
  for (int64_t r = 0; r < kRows; ++r) a_rows[r] = a_row_of(s, r);
  __m256 acc[kRows][2];
#pragma GCC unroll 6
  for (auto& row : acc)
#pragma GCC unroll 2
    for (auto& v : row) v = _mm256_setzero_ps();
  const float* b = s.b + c0;
  for (int64_t kk = 0; kk < k; ++kk, b += ldb) {
    __m256 bv[2];
#pragma GCC unroll 2
    for (int x = 0; x < 2; ++x) bv[x] = Full ? _mm256_loadu_ps(b + 8 * x) : _mm256_maskload_ps(b + 8 * x, mask[x]);
#pragma GCC unroll 6
    for (int64_t r = 0; r < kRows; ++r) {
      const __m256 a = _mm256_broadcast_ss(a_rows[r]);
      a_rows[r] += a_k;
#pragma GCC unroll 2
      for (int x = 0; x < 2; ++x) acc[r][x] = _mm256_fmadd_ps(a, bv[x], acc[r][x]);
    }
  }
  const __m256 alpha = _mm256_set1_ps(s.alpha), beta = _mm256_set1_ps(s.beta);
#pragma GCC unroll 6
  for (int64_t r = 0; r < kRows; ++r) {
    float* c = s.c + r * s.ldc + c0;
#pragma GCC unroll 2
    for (int x = 0; x < 2; ++x) {
      if (r >= s.rows) continue;
      __m256 v = _mm256_mul_ps(alpha, acc[r][x]);
      if (s.beta != 0.0f)
        v = _mm256_fmadd_ps(beta, Full ? _mm256_loadu_ps(c + 8 * x) : _mm256_maskload_ps(c + 8 * x, mask[x]), v);
      if (Full) _mm256_storeu_ps(c + 8 * x, v);
      else _mm256_maskstore_ps(c + 8 * x, mask[x], v);
    }
  }
}

__attribute__((target("avx2,fma"))) void block_avx2(const Block& s) {
  for (int64_t c0 = 0; c0 < s.cols; c0 += 16) {
    if (s.cols - c0 >= 16) strip_avx2<true>(s, c0);
    else strip_avx2<false>(s, c0);
  }
}

// kVectors: zmm columns of the block, 16 floats each, ceil(cols / 16) (narrow blocks do no FMAs on columns
// past their own: the causal attention's diagonal tiles need only part of each row). Full: all
// 16 * kVectors columns are inside B, read with plain loads; otherwise masked ones (a masked load in the
// loop cost a fifth of the packed GEMM's rate). Every loop over acc is unrolled, so that its indices are
// constants and the array lives in registers (GCC 12 otherwise keeps it on the stack, the zeroing loop is
// enough for that); A's rows advance by pointer, not by a multiply per k.
template <bool Full, int kVectors>
__attribute__((target("avx512f,fma"))) inline void block_avx512_body(const Block& s) {
  __mmask16 mask[kVectors];
  for (int x = 0; x < kVectors; ++x) {
    const int64_t left = s.cols - 16 * x;
    mask[x] = left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
  }
  const int64_t a_k = s.a_k, ldb = s.ldb, k = s.k;
  const float* a_rows[kRows];
  for (int64_t r = 0; r < kRows; ++r) a_rows[r] = a_row_of(s, r);
  __m512 acc[kRows][kVectors];
#pragma GCC unroll 6
  for (auto& row : acc)
#pragma GCC unroll 4
    for (auto& v : row) v = _mm512_setzero_ps();
  const float* b = s.b;
  for (int64_t kk = 0; kk < k; ++kk, b += ldb) {
    __m512 bv[kVectors];
#pragma GCC unroll 4
    for (int x = 0; x < kVectors; ++x)
      bv[x] = Full ? _mm512_loadu_ps(b + 16 * x) : _mm512_maskz_loadu_ps(mask[x], b + 16 * x);
#pragma GCC unroll 6
    for (int64_t r = 0; r < kRows; ++r) {
      const __m512 a = _mm512_set1_ps(*a_rows[r]);
      a_rows[r] += a_k;
#pragma GCC unroll 4
      for (int x = 0; x < kVectors; ++x) acc[r][x] = _mm512_fmadd_ps(a, bv[x], acc[r][x]);
    }
  }
  const __m512 alpha = _mm512_set1_ps(s.alpha), beta = _mm512_set1_ps(s.beta);
#pragma GCC unroll 6
  for (int64_t r = 0; r < kRows; ++r) {
    float* c = s.c + r * s.ldc;
#pragma GCC unroll 4
    for (int x = 0; x < kVectors; ++x) {
      if (r >= s.rows) continue;
      __m512 v = _mm512_mul_ps(alpha, acc[r][x]);
      if (s.beta != 0.0f) v = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(mask[x], c + 16 * x), v);
      _mm512_mask_storeu_ps(c + 16 * x, mask[x], v);
    }
  }
}

__attribute__((target("avx512f,fma"))) void block_avx512(const Block& s) {
  static_assert(kCols == 64, "block_avx512 picks among 1 to 4 zmm columns");
  switch ((s.cols + 15) / 16) {
    case 1: return s.cols == 16 ? block_avx512_body<true, 1>(s) : block_avx512_body<false, 1>(s);
    case 2: return s.cols == 32 ? block_avx512_body<true, 2>(s) : block_avx512_body<false, 2>(s);
    case 3: return s.cols == 48 ? block_avx512_body<true, 3>(s) : block_avx512_body<false, 3>(s);
    default: return s.cols == 64 ? block_avx512_body<true, 4>(s) : block_avx512_body<false, 4>(s);
  }
}

#endif  // __x86_64__

}  // namespace

Kernel kernel() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.fma) return block_avx512;
  if (f.avx2 && f.fma) return block_avx2;
#endif
  return block_scalar;
}

bool vectorized() { return kernel() != block_scalar; }

void unpacked_sgemm(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const Kernel run = kernel();
  const int64_t a_row = trans_a ? 1 : lda, a_k = trans_a ? lda : 1;
  for (int64_t j0 = 0; j0 < n; j0 += kCols)
    for (int64_t i0 = 0; i0 < m; i0 += kRows)
      run({a + i0 * a_row, a_row, a_k, b + j0, ldb, k, alpha, beta, c + i0 * ldc + j0, ldc,
           std::min(kRows, m - i0), std::min(kCols, n - j0)});
}

}  // namespace register_block
}  // namespace wpm
