// The row-invariant GEMM (see the header for what it promises).
//
// Blocking: op(B) is packed once per call into panels of kCols = 64 columns,
// [panel][k][64], zero past N. Work items are tiles of kTileRows = 96 rows of
// C (16 blocks of kRows = 6); a thread packs its tile of op(A) into
// [block][k][6], zero past M, and runs every block of the tile against each
// panel of its share, one 6 x 64 register block of C at a time
// (register_block.h), fed per k by one row of the panel and six values of
// the packed block of op(A). The tile stays in L2 while the panels stream past it. When there are fewer
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

#include "register_block.h"
#include "thread_pool.h"
#include "workspace.h"

namespace wpm {

namespace {

using register_block::kCols;
using register_block::kRows;

constexpr int64_t kTileBlocks = 16, kTileRows = kRows * kTileBlocks;

int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }

}  // namespace

void row_invariant_sgemm(ThreadPool* pool, Workspace& workspace, bool trans_a, bool trans_b, int64_t m, int64_t n,
                         int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                         float* c, int64_t ldc) {
  const register_block::Kernel kernel = register_block::kernel();
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
        kernel({tile_a + (r0 / kRows) * k * kRows, 1, kRows, packed_b + p * k * kCols, kCols, k, alpha, beta,
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
