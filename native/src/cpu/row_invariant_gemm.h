// The CPU backend's row-invariant f32 GEMM: C = alpha op(A) op(B) + beta C,
// row-major, where every element is computed by one fixed sequence of
// operations whatever M is, wherever its row sits, however many threads run:
//
//   acc = 0;  for k = 0 .. K-1: acc = fma(op(A)[i][k], op(B)[k][j], acc)
//   C[i][j] = alpha acc                      (beta = 0: C is not read)
//   C[i][j] = fma(beta, C[i][j], alpha acc)  (otherwise)
//
// So a row of C depends on its row of op(A), on op(B), K, alpha and beta
// only: a sequence's activations come out the same bits alone and in any
// batch. OpenBLAS gives no such promise: its result for a row changes with M
// (one thread or several, small-matrix kernels, gemv for one row in newer
// versions) and, with its Haswell kernels, with the row's position inside a
// block of the micro-kernel, so a fixed row blocking around it is not enough.
// The AVX-512, AVX2 and scalar variants do the same operations in the same
// order, so the bits do not depend on the host's ISA either.
#pragma once

#include <cstdint>

namespace wpm {

class ThreadPool;
class Workspace;

// Row-major C (m x n) = alpha op(A) op(B) + beta C as above; pool may be null (runs on the calling thread).
// Scratch comes from workspace: op(B) packed once per call, and a tile of op(A) per thread.
void row_invariant_sgemm(ThreadPool* pool, Workspace& workspace, bool trans_a, bool trans_b, int64_t m, int64_t n,
                         int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                         float* c, int64_t ldc);

}  // namespace wpm
