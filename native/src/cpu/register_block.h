// The register block of the CPU backend's own f32 GEMMs: a block of up to
// kRows x kCols elements of C, accumulated in registers over the whole of K,
// each element as
//
//   acc = 0;  for k = 0 .. K-1: acc = fma(A(r, k), B(k, j), acc)
//   C[r][j] = alpha acc                      (beta = 0: C is not read)
//   C[r][j] = fma(beta, C[r][j], alpha acc)  (otherwise)
//
// in every variant (AVX-512, AVX2, scalar), so the bits do not depend on the
// host's ISA. A is read through two strides, so one kernel serves a packed
// block ([k][kRows]), a row-major matrix and its transpose; B's columns are
// contiguous, rows ldb apart, and never read past cols.
//
// Two users: the row-invariant GEMM (row_invariant_gemm.h), which packs its
// operands first, and unpacked_sgemm below, for operands that already sit in
// cache (the attention's 64 x 64 tiles), where packing them is what a library
// GEMM spends most of its time on.
#pragma once

#include <cstdint>

namespace wpm {
namespace register_block {

constexpr int64_t kRows = 6, kCols = 64;

// C[0 .. rows) x [0 .. cols) from A(r, k) = a[r * a_row + k * a_k] and B(k, j) = b[k * ldb + j];
// rows <= kRows, cols <= kCols. Rows past `rows` of A are not read.
struct Block {
  const float* a;
  int64_t a_row, a_k;
  const float* b;
  int64_t ldb, k;
  float alpha, beta;
  float* c;
  int64_t ldc, rows, cols;
};

using Kernel = void (*)(const Block&);

// The fastest variant this CPU runs (WORLDPM_CPU_MAX_ISA caps it).
Kernel kernel();

// True when kernel() is a SIMD variant, i.e. worth using instead of a library GEMM.
bool vectorized();

// Row-major C (m x n) = alpha op(A) B + beta C on the calling thread, op(A) = A (m x k, rows lda apart) or A^T
// (A k x m), B k x n with rows ldb apart, read in place: no packing, no threads. Meant for operands that fit in
// L1/L2; every element is computed as in the header's formula.
void unpacked_sgemm(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace register_block
}  // namespace wpm
