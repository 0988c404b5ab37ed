// A wpm_gemm problem for the native tests: operands as stored (transposes,
// leading dimensions with gaps, batch strides, broadcast items), rounded to
// their dtype on the host, and a float64 triple-loop reference to check C
// against, including that nothing outside C's matrices changed.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "test_util.h"

namespace wpm_test {

struct GemmShape {
  bool ta = false, tb = false;
  int64_t m = 1, n = 1, k = 1, batch = 1;
  float alpha = 1.0f, beta = 0.0f;
  int64_t ld_extra = 0;      // added to every leading dimension (0: pass ld = 0, meaning tight)
  int64_t gap = 0;           // unused elements between batch items
  bool broadcast_a = false;  // stride_a = 0: every item uses the same A
  bool broadcast_b = false;  // stride_b = 0: every item uses the same B
  bool row_invariant = false;
};

// One operand as stored: rows x cols, row stride ld, batch stride.
struct Stored {
  int64_t rows, cols, ld, stride;
  int64_t at(int64_t item, int64_t r, int64_t c) const { return item * stride + r * ld + c; }
  size_t count(int64_t batch) const { return size_t(at(batch - 1, rows - 1, cols - 1) + 1); }
};

inline Stored stored(int64_t rows, int64_t cols, const GemmShape& s, bool broadcast = false) {
  int64_t ld = cols + s.ld_extra;
  return {rows, cols, ld, broadcast ? 0 : (rows - 1) * ld + cols + s.gap};
}

// A GEMM problem with host operands (already rounded to dtype) and buffers holding them.
struct GemmProblem {
  GemmShape s;
  wpm_dtype dtype;
  Stored a, b, c;
  std::vector<float> ha, hb, hc;
  Buffer A, B, C;

  GemmProblem(const Context& ctx, const GemmShape& shape, wpm_dtype dt, uint32_t seed, bool poison_c = false)
      : s(shape),
        dtype(dt),
        a(stored(s.ta ? s.k : s.m, s.ta ? s.m : s.k, s, s.broadcast_a)),
        b(stored(s.tb ? s.n : s.k, s.tb ? s.k : s.n, s, s.broadcast_b)),
        c(stored(s.m, s.n, s)),
        ha(random_values(a.count(s.batch), seed, -2, 2, dt)),
        hb(random_values(b.count(s.batch), seed + 1, -2, 2, dt)),
        hc(poison_c ? std::vector<float>(c.count(s.batch), NAN) : random_values(c.count(s.batch), seed + 2, -2, 2, dt)),
        A(ctx, dt, ha),
        B(ctx, dt, hb),
        C(ctx, dt, hc) {}

  wpm_gemm_params params() const {
    wpm_gemm_params p{};
    p.struct_size = sizeof p;
    p.trans_a = s.ta;
    p.trans_b = s.tb;
    p.m = s.m;
    p.n = s.n;
    p.k = s.k;
    p.batch = s.batch;
    p.alpha = s.alpha;
    p.beta = s.beta;
    p.a = A;
    p.b = B;
    p.c = C;
    bool tight = s.ld_extra == 0;
    p.lda = tight ? 0 : a.ld;
    p.ldb = tight ? 0 : b.ld;
    p.ldc = tight ? 0 : c.ld;
    p.stride_a = s.batch > 1 ? a.stride : 0;
    p.stride_b = s.batch > 1 ? b.stride : 0;
    p.stride_c = s.batch > 1 ? c.stride : 0;
    p.row_invariant = s.row_invariant;
    return p;
  }

  double op_a(int64_t item, int64_t i, int64_t l) const { return ha[a.at(item, s.ta ? l : i, s.ta ? i : l)]; }
  double op_b(int64_t item, int64_t l, int64_t j) const { return hb[b.at(item, s.tb ? j : l, s.tb ? l : j)]; }

  // Float64 reference of C's matrices, item by item, row by row.
  std::vector<double> reference() const {
    std::vector<double> ref;
    for (int64_t item = 0; item < s.batch; ++item)
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) {
          double sum = 0;
          for (int64_t l = 0; l < s.k; ++l) sum += op_a(item, i, l) * op_b(item, l, j);
          double old = s.beta == 0.0f ? 0.0 : double(s.beta) * hc[c.at(item, i, j)];
          ref.push_back(double(s.alpha) * sum + old);
        }
    return ref;
  }

  // Runs wpm_gemm and checks C's matrices against the reference and that no other element of C changed.
  void check(const Context& ctx) {
    wpm_gemm_params p = params();
    WPM_ASSERT_OK(wpm_gemm(ctx, &p));
    std::vector<float> got = C.download();
    std::vector<float> inside;
    std::vector<bool> is_inside(got.size(), false);
    for (int64_t item = 0; item < s.batch; ++item)
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) {
          inside.push_back(got[c.at(item, i, j)]);
          is_inside[c.at(item, i, j)] = true;
        }
    EXPECT_LE(rel_error(inside, reference()), tolerance(dtype, true)) << dtype_label(dtype);
    for (size_t e = 0; e < got.size(); ++e)
      if (!is_inside[e]) ASSERT_EQ(0, std::memcmp(&got[e], &hc[e], 4)) << "element " << e << " outside C changed";
  }
};

}  // namespace wpm_test
