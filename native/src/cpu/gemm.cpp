// GEMM on the CPU backend: C[i] = alpha op(A[i]) op(B[i]) + beta C[i], row-major, batched.
//
// f32 goes straight to OpenBLAS cblas_sgemm, or to row_invariant_sgemm when the
// call asks for rows that do not depend on M (row_invariant_gemm.h; the
// f16/bf16 panels below then use it too, and oneDNN is not used: its kernels
// block by shape like OpenBLAS's). bf16 goes to oneDNN's matmul where
// bf16 arithmetic is fast (bf16_gemm_path.h says where; not on the dev VM).
// Otherwise f16/bf16 operands are converted to f32 panels (kPanelMN x kPanelK
// at most), multiplied by sgemm (the first K panel applies beta to the f32 copy
// of C, later ones add), and the result is rounded back once per C panel:
// accumulation and beta are fp32, and extra memory stays at three panels
// however big the operands are.
//
// Parallelism: a big GEMM runs on OpenBLAS's own threads (openblas_set_num_threads
// is the pool size) and its conversions over the pool; a batch of small ones
// goes over the pool, one sgemm per item, each small enough for OpenBLAS to run
// on the calling thread.
//
// Cost: 2 M N K FLOPs per product, at the rate of OpenBLAS's kernels for this
// CPU (blas.h says why they are chosen by hand); the f16/bf16 conversions add
// one pass over each panel. bench/RESULTS.md has the measured rates of both
// dtypes and both kernel choices.

#include <algorithm>
#include <climits>
#include <memory>
#include <type_traits>
#include <vector>

#include "../error.h"
#include "blas.h"
#include "convert.h"
#include "cpu_backend.h"
#include "row_invariant_gemm.h"

namespace wpm {

namespace {

// OpenBLAS runs an sgemm on the calling thread when m*n*k <= 4 * 65536
// (GEMM_MULTITHREAD_THRESHOLD * SMP_THRESHOLD_MIN); such calls can run from
// several pool threads at once without fighting over OpenBLAS's threads.
constexpr double kOpenblasSingleThreaded = 262144.0;
// Panels span up to 2048 rows and columns of C (and 1024 of K): the reference
// model's GEMMs (M = 4096 tokens, N <= 1408) then convert B twice, not four
// times as with 1024 x 1024, for 32 MiB of panels at most.
constexpr int64_t kPanelMN = 2048, kPanelK = 1024;
// Rows per pool chunk: at least this many elements, so small panels stay on one thread.
constexpr int64_t kConvertChunk = 1 << 16;

// convert_row(r) for r in [0, rows), over pool when there is one.
template <class ConvertRow>
void convert_rows(ThreadPool* pool, int64_t rows, int64_t cols, const ConvertRow& convert_row) {
  if (pool == nullptr) {
    for (int64_t r = 0; r < rows; ++r) convert_row(r);
    return;
  }
  pool->parallel_for(rows, std::max<int64_t>(1, kConvertChunk / cols), [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) convert_row(r);
  });
}

// One f32 product for g: the row-invariant kernel when g asks for it (on pool's threads), else OpenBLAS
// (on its own threads).
void multiply(const GemmArgs& g, ThreadPool* pool, Workspace& workspace, bool trans_a, bool trans_b, int64_t m,
              int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
              float* c, int64_t ldc) {
  if (g.row_invariant)
    row_invariant_sgemm(pool, workspace, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// f32 copies of one panel of op(A), op(B) and C.
struct Panels {
  std::unique_ptr<float[]> a, b, c;
  Panels(int64_t m, int64_t n, int64_t k)
      : a(new float[size_t(m * k)]), b(new float[size_t(k * n)]), c(new float[size_t(m * n)]) {}
};

// Batch item i of an f16/bf16 GEMM, through the f32 panels p; conversions over
// pool when given (a big GEMM's sgemm runs on OpenBLAS's threads, but the
// conversions would otherwise run on one), serially inside a pool worker.
template <class T>
void gemm_item_panels(const GemmArgs& g, int64_t i, Panels* p, ThreadPool* pool, Workspace& workspace) {
  auto to_f32 = [pool](const T* src, int64_t ld, int64_t rows, int64_t cols, float* dst) {
    convert_rows(pool, rows, cols, [&](int64_t r) { widen(src + r * ld, dst + r * cols, cols); });
  };
  auto from_f32 = [pool](const float* src, int64_t rows, int64_t cols, T* dst, int64_t ld) {
    convert_rows(pool, rows, cols, [&](int64_t r) { narrow(src + r * cols, dst + r * ld, cols); });
  };
  const T* a = static_cast<const T*>(g.a) + i * g.stride_a;
  const T* b = static_cast<const T*>(g.b) + i * g.stride_b;
  T* c = static_cast<T*>(g.c) + i * g.stride_c;
  for (int64_t m0 = 0; m0 < g.m; m0 += kPanelMN) {
    int64_t mb = std::min(kPanelMN, g.m - m0);
    for (int64_t n0 = 0; n0 < g.n; n0 += kPanelMN) {
      int64_t nb = std::min(kPanelMN, g.n - n0);
      if (g.beta != 0.0f) to_f32(c + m0 * g.ldc + n0, g.ldc, mb, nb, p->c.get());
      for (int64_t k0 = 0; k0 < g.k; k0 += kPanelK) {
        int64_t kb = std::min(kPanelK, g.k - k0);
        // Each panel keeps its stored orientation; sgemm applies the transposes.
        if (g.trans_a) to_f32(a + k0 * g.lda + m0, g.lda, kb, mb, p->a.get());
        else to_f32(a + m0 * g.lda + k0, g.lda, mb, kb, p->a.get());
        if (g.trans_b) to_f32(b + n0 * g.ldb + k0, g.ldb, nb, kb, p->b.get());
        else to_f32(b + k0 * g.ldb + n0, g.ldb, kb, nb, p->b.get());
        multiply(g, pool, workspace, g.trans_a, g.trans_b, mb, nb, kb, g.alpha, p->a.get(), g.trans_a ? mb : kb,
                 p->b.get(), g.trans_b ? kb : nb, k0 == 0 ? g.beta : 1.0f, p->c.get(), nb);
      }
      from_f32(p->c.get(), mb, nb, c + m0 * g.ldc + n0, g.ldc);
    }
  }
}

// Batch item i: f32 is multiplied as it is.
template <class T>
void gemm_item(const GemmArgs& g, int64_t i, Panels* p, ThreadPool* pool, Workspace& workspace) {
  if constexpr (std::is_same_v<T, float>)
    multiply(g, pool, workspace, g.trans_a, g.trans_b, g.m, g.n, g.k, g.alpha,
             static_cast<const float*>(g.a) + i * g.stride_a, g.lda, static_cast<const float*>(g.b) + i * g.stride_b,
             g.ldb, g.beta, static_cast<float*>(g.c) + i * g.stride_c, g.ldc);
  else
    gemm_item_panels<T>(g, i, p, pool, workspace);
}

}  // namespace

wpm_status CpuBackend::gemm(const GemmArgs& g) {
  if (g.dtype == WPM_BF16 && bf16_matmul_ && !g.row_invariant && bf16_matmul_->run(g)) return WPM_OK;
  // OpenBLAS here takes 32-bit ints; the f16/bf16 path only passes panel sizes.
  if (g.dtype == WPM_F32 && std::max({g.m, g.n, g.k, g.lda, g.ldb, g.ldc}) > INT_MAX)
    return fail(WPM_ERR_UNSUPPORTED, "wpm_gemm: the cpu backend's BLAS takes dimensions and leading dimensions "
                                     "up to %d", INT_MAX);
  bool small = double(g.m) * double(g.n) * double(g.k) <= kOpenblasSingleThreaded;
  return dispatch_float(g.dtype, [&](auto tag) {
    using T = decltype(tag);
    int64_t pm = std::min(g.m, kPanelMN), pn = std::min(g.n, kPanelMN), pk = std::min(g.k, kPanelK);
    if (small && g.batch > 1 && !g.row_invariant) {  // the row-invariant kernel runs over the pool itself
      int workers = pool_.chunk_count(g.batch, 1);
      std::vector<Panels> panels;
      if (g.dtype != WPM_F32)
        for (int w = 0; w < workers; ++w) panels.emplace_back(pm, pn, pk);
      pool_.parallel_for(g.batch, 1, [&](int64_t begin, int64_t end, int worker) {
        for (int64_t i = begin; i < end; ++i)
          gemm_item<T>(g, i, panels.empty() ? nullptr : &panels[worker], nullptr, workspace_);
      });
      return WPM_OK;
    }
    std::unique_ptr<Panels> panels;
    if (g.dtype != WPM_F32) panels = std::make_unique<Panels>(pm, pn, pk);
    for (int64_t i = 0; i < g.batch; ++i) gemm_item<T>(g, i, panels.get(), &pool_, workspace_);
    return WPM_OK;
  });
}

}  // namespace wpm
