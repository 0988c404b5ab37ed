// The CPU backend's BLAS: OpenBLAS, opened at run time.
//
// Why not link it: OpenBLAS picks its kernels in a load-time constructor from
// the CPUID model, and 0.3.21 (Debian 12) does not know newer Xeons (family 6
// model 207 here): it falls back to Prescott SSE3 kernels, about 5x slower
// than its AVX-512 Cooperlake kernels on the same machine (sgemm 2048^3:
// ~70 vs ~340 GFLOP/s, 2 threads). Opening it ourselves lets us set
// OPENBLAS_CORETYPE from the features we detect before its constructor runs.
// A user's own OPENBLAS_CORETYPE always wins.
#pragma once

#include <cstdint>

namespace wpm {

// Opens OpenBLAS once (thread-safe); false with the reason set via wpm::fail.
bool blas_ready();
// "OpenBLAS 0.3.21, Cooperlake kernels" once opened, else why it is not.
const char* blas_description();
void blas_set_threads(int threads);

// Row-major C (m x n) = alpha op(A) op(B) + beta C. Sizes must fit in int.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace wpm
