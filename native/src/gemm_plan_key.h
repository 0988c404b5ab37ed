// What decides a cuBLASLt plan (matmul descriptor, layouts, chosen algorithm)
// for a GEMM of the C ABI: everything of GemmArgs but the scalars and the
// pointers, plus the pointers' alignments, which the plan's algorithm assumes.
// Two GEMMs with equal keys can run on one plan. Free of CUDA, so its tests
// run anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "backend.h"

namespace wpm {

// The largest power of two up to 256 dividing the address: the alignment a plan may promise cuBLASLt for it.
inline uint32_t pointer_alignment(const void* p) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

struct GemmPlanKey {
  int64_t m, n, k, batch, lda, ldb, ldc, stride_a, stride_b, stride_c;
  int32_t dtype;
  bool trans_a, trans_b;
  uint32_t align_a, align_b, align_c;

  static GemmPlanKey of(const GemmArgs& g) {
    return {g.m,        g.n,        g.k,        g.batch,          g.lda,   g.ldb,   g.ldc,
            g.stride_a, g.stride_b, g.stride_c, int32_t(g.dtype), g.trans_a, g.trans_b,
            pointer_alignment(g.a), pointer_alignment(g.b), pointer_alignment(g.c)};
  }

  bool operator==(const GemmPlanKey& o) const {
    return m == o.m && n == o.n && k == o.k && batch == o.batch && lda == o.lda && ldb == o.ldb && ldc == o.ldc &&
           stride_a == o.stride_a && stride_b == o.stride_b && stride_c == o.stride_c && dtype == o.dtype &&
           trans_a == o.trans_a && trans_b == o.trans_b && align_a == o.align_a && align_b == o.align_b &&
           align_c == o.align_c;
  }
};

struct GemmPlanKeyHash {
  size_t operator()(const GemmPlanKey& key) const {
    const int64_t fields[] = {key.m,        key.n,        key.k,        key.batch, key.lda,
                              key.ldb,      key.ldc,      key.stride_a, key.stride_b,
                              key.stride_c, key.dtype | (int64_t(key.trans_a) << 8) | (int64_t(key.trans_b) << 9),
                              int64_t(key.align_a) | (int64_t(key.align_b) << 16) | (int64_t(key.align_c) << 32)};
    size_t h = 0;
    for (int64_t f : fields) h = h * 1000003u ^ std::hash<int64_t>()(f);
    return h;
  }
};

}  // namespace wpm
