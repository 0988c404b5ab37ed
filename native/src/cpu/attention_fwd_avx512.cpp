// The fused forward step of the CPU attention for AVX-512 (see the header).
//
// Per block of kRows = 6 query rows, everything stays in zmm registers:
//   S = Q K^T     6 x 64 scores in 24 accumulators; per head-dim column c, 4
//                 loads of K^T row c and 6 broadcasts of Q[r][c] feed 24 FMAs
//                 (24 accumulators + 4 operands of the 32 registers);
//   softmax step  scale, causal mask, row max, exp2 (exp2_avx512.h), row sum,
//                 P to a 6 x 64 scratch on the stack (the next product's
//                 broadcast operand);
//   O = corr O + P V   per 64 columns of D: 6 x 64 outputs in 24 accumulators,
//                 per key j 4 loads of V row j and 6 broadcasts of P[r][j].
// The caller runs a tile's row blocks for one key block before the next, so
// K^T and V of the block (2 x 16 KiB at D = 64) stay in L1 while every row
// block streams past them.
//
// Causal mask: row r of the tile sees min(diag + r, n) keys. A row block only
// multiplies the 16-key vectors its last row sees (NV of 4, a template
// parameter), so the diagonal block costs about half of a full one instead
// of all of it; masked lanes are -inf for the max and exactly 0 in P.
//
// Why not OpenBLAS per tile (the portable path): there the two small sgemms
// per tile took 60% of the forward and the separate softmax pass over the
// tile in memory 24%, and the whole forward ran at 48% of the large-sgemm
// rate on one thread; this step brought it to 77% (bench/RESULTS.md has the
// profile and the numbers). The two FMA loops here run at the large-sgemm
// rate; the softmax part between them is about a fifth of the step.
#include "attention_fwd_avx512.h"

#include <algorithm>
#include <limits>

#include "cpu_features.h"
#include "exp2_avx512.h"

// GCC 12's own avx512fintrin.h seeds masked intrinsics (_mm512_reduce_max_ps,
// _mm512_roundscale_ps, ...) with _mm512_undefined_ps() and then warns about
// it once they are inlined (GCC bug 105593); nothing here reads an undefined
// value.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace wpm {
namespace attention_fwd_avx512 {

bool available() {
#if defined(__x86_64__)
  return cpu_features().avx512f;
#else
  return false;
#endif
}

#if defined(__x86_64__)

namespace {

constexpr int kLanes = 16;
constexpr int kRows = 6;
constexpr int kKeyVectors = int(kFusedKeys) / kLanes;

// The first count lanes (count clamped to 0 .. 16).
WPM_AVX512 inline __mmask16 first_lanes(int64_t count) {
  if (count <= 0) return 0;
  if (count >= kLanes) return 0xFFFF;
  return __mmask16((1u << count) - 1);
}

// O[rows r0 .. r0 + R - 1] = corr O + P V over the first keys keys, 64 columns of D at a time.
template <int R>
WPM_AVX512 inline void add_pv(const Step& s, int64_t r0, const float (&p)[kRows][kFusedKeys], const float* corr,
                              int64_t keys) {
  for (int64_t c0 = 0; c0 < s.d; c0 += kFusedKeys) {
    __mmask16 cols[kKeyVectors];
  #pragma GCC unroll 8
    for (int x = 0; x < kKeyVectors; ++x) cols[x] = first_lanes(s.d - c0 - x * kLanes);
    __m512 acc[R][kKeyVectors];
  #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const float* o = s.o + (r0 + r) * s.d + c0;
      const __m512 scale = _mm512_set1_ps(corr[r]);
    #pragma GCC unroll 8
      for (int x = 0; x < kKeyVectors; ++x)
        acc[r][x] = _mm512_mul_ps(_mm512_maskz_loadu_ps(cols[x], o + x * kLanes), scale);
    }
    for (int64_t j = 0; j < keys; ++j) {
      const float* v = s.v + j * s.v_stride + c0;
      __m512 vj[kKeyVectors];
    #pragma GCC unroll 8
      for (int x = 0; x < kKeyVectors; ++x) vj[x] = _mm512_maskz_loadu_ps(cols[x], v + x * kLanes);
    #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 pj = _mm512_set1_ps(p[r][j]);
      #pragma GCC unroll 8
        for (int x = 0; x < kKeyVectors; ++x) acc[r][x] = _mm512_fmadd_ps(pj, vj[x], acc[r][x]);
      }
    }
  #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* o = s.o + (r0 + r) * s.d + c0;
    #pragma GCC unroll 8
      for (int x = 0; x < kKeyVectors; ++x) _mm512_mask_storeu_ps(o + x * kLanes, cols[x], acc[r][x]);
    }
  }
}

// Rows r0 .. r0 + R - 1 against the block's first NV * 16 keys (the rest are masked for all R rows).
// Masked: some of those keys are hidden from some row (the diagonal, or n short of NV * 16); otherwise
// every row sees all of them and the mask arithmetic is left out.
template <int R, int NV, bool Masked>
WPM_AVX512 void step_rows(const Step& s, int64_t r0) {
  const __mmask16 last = first_lanes(s.n - (NV - 1) * kLanes);  // K^T past n is not ours to read
  __m512 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int x = 0; x < NV; ++x) acc[r][x] = _mm512_setzero_ps();
  const float* q = s.q + r0 * s.q_stride;
  for (int64_t c = 0; c < s.d; ++c) {
    const float* kt = s.kt + c * s.kt_stride;
    __m512 k[NV];
#pragma GCC unroll 8
    for (int x = 0; x < NV - 1; ++x) k[x] = _mm512_loadu_ps(kt + x * kLanes);
    k[NV - 1] = _mm512_maskz_loadu_ps(last, kt + (NV - 1) * kLanes);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 qc = _mm512_set1_ps(q[r * s.q_stride + c]);
#pragma GCC unroll 8
      for (int x = 0; x < NV; ++x) acc[r][x] = _mm512_fmadd_ps(qc, k[x], acc[r][x]);
    }
  }

  alignas(64) float p[kRows][kFusedKeys];
  float corr[kRows];
  const __m512 scale = _mm512_set1_ps(s.scale);
  const __m512 minus_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __mmask16 seen[NV];
    __m512 row_max = minus_inf;
#pragma GCC unroll 8
    for (int x = 0; x < NV; ++x) {
      if constexpr (Masked) {
        seen[x] = first_lanes(std::min(s.diag + r0 + r, s.n) - x * kLanes);
        acc[r][x] = _mm512_mask_mul_ps(minus_inf, seen[x], acc[r][x], scale);
      } else {
        acc[r][x] = _mm512_mul_ps(acc[r][x], scale);
      }
      row_max = _mm512_max_ps(row_max, acc[r][x]);
    }
    const float m_old = s.m[r0 + r];
    const float m_new = std::max(m_old, _mm512_reduce_max_ps(row_max));  // finite: every row sees a key
    // On the first block m_old = -inf and corr = 2^-126 scales the zeros of o and l.
    corr[r] = _mm512_cvtss_f32(exp2_avx512(_mm512_set1_ps(m_old - m_new)));
    const __m512 shift = _mm512_set1_ps(m_new);
    __m512 sum = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int x = 0; x < NV; ++x) {
      __m512 e = exp2_avx512(_mm512_sub_ps(acc[r][x], shift));
      if constexpr (Masked) e = _mm512_maskz_mov_ps(seen[x], e);
      sum = _mm512_add_ps(sum, e);
      _mm512_store_ps(&p[r][x * kLanes], e);
    }
    float* l = s.l + (r0 + r) * kSumLanes;
    _mm512_storeu_ps(l, _mm512_fmadd_ps(_mm512_loadu_ps(l), _mm512_set1_ps(corr[r]), sum));
    s.m[r0 + r] = m_new;
  }
  add_pv<R>(s, r0, p, corr, std::min<int64_t>(s.n, NV * kLanes));
}

using RowKernel = void (*)(const Step&, int64_t);

template <int R, bool Masked>
RowKernel row_kernel(int64_t nv) {
  switch (nv) {
    case 1: return step_rows<R, 1, Masked>;
    case 2: return step_rows<R, 2, Masked>;
    case 3: return step_rows<R, 3, Masked>;
    default: return step_rows<R, 4, Masked>;
  }
}

template <bool Masked>
RowKernel row_kernel(int64_t rows, int64_t nv) {
  switch (rows) {
    case 1: return row_kernel<1, Masked>(nv);
    case 2: return row_kernel<2, Masked>(nv);
    case 3: return row_kernel<3, Masked>(nv);
    case 4: return row_kernel<4, Masked>(nv);
    case 5: return row_kernel<5, Masked>(nv);
    default: return row_kernel<6, Masked>(nv);
  }
}

}  // namespace

void step(const Step& s) {
  for (int64_t r0 = 0; r0 < s.rows; r0 += kRows) {
    const int64_t rows = std::min<int64_t>(kRows, s.rows - r0);
    const int64_t keys = std::min(s.n, s.diag + r0 + rows - 1);  // what the block's last row sees
    const int64_t nv = (keys + kLanes - 1) / kLanes;
    const bool masked = s.diag + r0 < s.n || keys != nv * kLanes;  // its first row sees fewer, or n is ragged
    (masked ? row_kernel<true>(rows, nv) : row_kernel<false>(rows, nv))(s, r0);
  }
}

float row_sum(const float* partial) {
  float sum = 0.0f;
  for (int64_t i = 0; i < kSumLanes; ++i) sum += partial[i];
  return sum;
}

#else

void step(const Step&) {}
float row_sum(const float*) { return 0.0f; }

#endif  // __x86_64__

}  // namespace attention_fwd_avx512
}  // namespace wpm
