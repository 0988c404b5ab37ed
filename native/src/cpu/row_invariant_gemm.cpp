// The row-invariant GEMM (see the header for what it promises).
//
// Blocking: op(B) is packed once per call into panels of kCols = 64 columns,
// [panel][k][64], zero past N. Work items are tiles of kTileRows = 96 rows of
// C (16 blocks of kRows = 6); a thread packs its tile of op(A) into
// [block][k][6], zero past M, and runs every block of the tile against each
// panel of its share: a 6 x 64 block of C is 24 zmm accumulators (AVX2: 6 x 16
// at a time, 12 ymm), fed per k by one row of the panel and six broadcasts.
// The tile stays in L2 while the panels stream past it. When there are fewer
// tiles than threads (the B scoring rows of a batch), the panels are split
// too. None of this changes any element's operations: each accumulates its
// own K products from zero in order, in one register lane, and is finished
// by the same epilogue; rows and columns past the matrix are computed into
// the padding and never stored.
//
// Cost: 2 M N K FLOPs at the rate of the micro-kernel, plus one pass over
// op(B) per call and one over op(A) per panel share. bench/RESULTS.md has
// the measured cost against OpenBLAS on the scoring workload (W5).
#include "row_invariant_gemm.h"

#include <algorithm>
#include <cmath>

#include "cpu_features.h"
#include "thread_pool.h"
#include "workspace.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace wpm {

namespace {

constexpr int64_t kRows = 6, kCols = 64, kTileBlocks = 16, kTileRows = kRows * kTileBlocks;

int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }

// One block: C[0 .. rows) x [0 .. cols) from a packed block of op(A) ([k][kRows]) and a panel of op(B)
// ([k][kCols]); rows <= kRows, cols <= kCols.
struct Block {
  const float* a;
  const float* b;
  int64_t k;
  float alpha, beta;
  float* c;
  int64_t ldc, rows, cols;
};

void block_scalar(const Block& s) {
  for (int64_t r = 0; r < s.rows; ++r)
    for (int64_t j = 0; j < s.cols; ++j) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < s.k; ++kk) acc = std::fma(s.a[kk * kRows + r], s.b[kk * kCols + j], acc);
      float out = s.alpha * acc;
      float* c = s.c + r * s.ldc + j;
      *c = s.beta == 0.0f ? out : std::fma(s.beta, *c, out);
    }
}

#if defined(__x86_64__)

__attribute__((target("avx2,fma"))) void block_avx2(const Block& s) {
  constexpr int64_t kWidth = 16;  // two ymm per row
  for (int64_t c0 = 0; c0 < s.cols; c0 += kWidth) {
    __m256 acc[kRows][2];
    for (auto& row : acc) row[0] = row[1] = _mm256_setzero_ps();
    for (int64_t kk = 0; kk < s.k; ++kk) {
      const float* b = s.b + kk * kCols + c0;
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      for (int64_t r = 0; r < kRows; ++r) {
        const __m256 a = _mm256_broadcast_ss(s.a + kk * kRows + r);
        acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
      }
    }
    const int64_t cols = std::min(kWidth, s.cols - c0);
    const __m256 alpha = _mm256_set1_ps(s.alpha), beta = _mm256_set1_ps(s.beta);
    for (int64_t r = 0; r < s.rows; ++r) {
      float* c = s.c + r * s.ldc + c0;
      alignas(32) float old[kWidth] = {}, out[kWidth];
      if (s.beta != 0.0f) std::copy(c, c + cols, old);
      for (int h = 0; h < 2; ++h) {
        __m256 v = _mm256_mul_ps(alpha, acc[r][h]);
        if (s.beta != 0.0f) v = _mm256_fmadd_ps(beta, _mm256_load_ps(old + 8 * h), v);
        _mm256_store_ps(out + 8 * h, v);
      }
      std::copy(out, out + cols, c);
    }
  }
}

__attribute__((target("avx512f,fma"))) void block_avx512(const Block& s) {
  constexpr int kVectors = int(kCols / 16);
  __m512 acc[kRows][kVectors];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < s.k; ++kk) {
    const float* b = s.b + kk * kCols;
    __m512 bv[kVectors];
#pragma GCC unroll 4
    for (int x = 0; x < kVectors; ++x) bv[x] = _mm512_loadu_ps(b + 16 * x);
#pragma GCC unroll 6
    for (int64_t r = 0; r < kRows; ++r) {
      const __m512 a = _mm512_set1_ps(s.a[kk * kRows + r]);
#pragma GCC unroll 4
      for (int x = 0; x < kVectors; ++x) acc[r][x] = _mm512_fmadd_ps(a, bv[x], acc[r][x]);
    }
  }
  const __m512 alpha = _mm512_set1_ps(s.alpha), beta = _mm512_set1_ps(s.beta);
  for (int64_t r = 0; r < s.rows; ++r) {
    float* c = s.c + r * s.ldc;
    for (int x = 0; x < kVectors; ++x) {
      const int64_t left = s.cols - 16 * x;
      if (left <= 0) break;
      const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
      __m512 v = _mm512_mul_ps(alpha, acc[r][x]);
      if (s.beta != 0.0f) v = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(mask, c + 16 * x), v);
      _mm512_mask_storeu_ps(c + 16 * x, mask, v);
    }
  }
}

#endif  // __x86_64__

using BlockKernel = void (*)(const Block&);

BlockKernel block_kernel() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.fma) return block_avx512;
  if (f.avx2 && f.fma) return block_avx2;
#endif
  return block_scalar;
}

}  // namespace

void row_invariant_sgemm(ThreadPool* pool, Workspace& workspace, bool trans_a, bool trans_b, int64_t m, int64_t n,
                         int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                         float* c, int64_t ldc) {
  const BlockKernel kernel = block_kernel();
  const int threads = pool != nullptr ? pool->size() : 1;
  const int64_t panels = ceil_div(n, kCols), tiles = ceil_div(m, kTileRows);
  const int64_t parts = std::clamp<int64_t>(ceil_div(threads, tiles), 1, panels);
  Workspace::Lease memory = workspace.lease();
  float* packed_b = memory.floats(size_t(panels * k * kCols));
  float* packed_a = memory.floats(size_t(threads) * size_t(kTileRows * k));

  auto pack_panel = [&](int64_t p) {
    float* dst = packed_b + p * k * kCols;
    for (int64_t jj = 0; jj < kCols; ++jj) {
      const int64_t j = p * kCols + jj;
      for (int64_t kk = 0; kk < k; ++kk)
        dst[kk * kCols + jj] = j >= n ? 0.0f : trans_b ? b[j * ldb + kk] : b[kk * ldb + j];
    }
  };
  auto run_item = [&](int64_t item, int worker) {
    const int64_t tile = item / parts, part = item % parts;
    const int64_t i0 = tile * kTileRows, rows = std::min(kTileRows, m - i0);
    float* tile_a = packed_a + int64_t(worker) * kTileRows * k;
    for (int64_t r = 0; r < ceil_div(rows, kRows) * kRows; ++r) {
      float* dst = tile_a + (r / kRows) * k * kRows + r % kRows;
      const int64_t i = i0 + r;
      for (int64_t kk = 0; kk < k; ++kk)
        dst[kk * kRows] = i >= m ? 0.0f : trans_a ? a[kk * lda + i] : a[i * lda + kk];
    }
    for (int64_t p = part * panels / parts; p < (part + 1) * panels / parts; ++p)
      for (int64_t r0 = 0; r0 < rows; r0 += kRows)
        kernel({tile_a + (r0 / kRows) * k * kRows, packed_b + p * k * kCols, k, alpha, beta,
                c + (i0 + r0) * ldc + p * kCols, ldc, std::min(kRows, rows - r0), std::min(kCols, n - p * kCols)});
  };

  if (pool == nullptr) {
    for (int64_t p = 0; p < panels; ++p) pack_panel(p);
    for (int64_t item = 0; item < tiles * parts; ++item) run_item(item, 0);
    return;
  }
  pool->parallel_items(panels, [&](int64_t p, int) { pack_panel(p); });
  pool->parallel_items(tiles * parts, run_item);
}

}  // namespace wpm
