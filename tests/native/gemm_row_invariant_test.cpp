// wpm_gemm with row_invariant set: the product (float64 reference, every
// transpose, dtype, batch, alpha/beta and leading-dimension case of the plain
// path), the exact sequence of operations worldpm.h promises (a host fmaf loop
// gives the same bits), a row alone against the same row among many, callers
// built against 0.4, and a bad flag named.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "gemm_problem.h"
#include "test_util.h"

namespace {

using namespace wpm_test;

const wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};

GemmShape invariant(GemmShape s) {
  s.row_invariant = true;
  return s;
}

TEST(GemmRowInvariant, MatchesFloat64InEveryLayout) {
  Context ctx;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (wpm_dtype dtype : kDtypes) {
        SCOPED_TRACE("trans_a=" + std::to_string(ta) + " trans_b=" + std::to_string(tb) + " " + dtype_label(dtype));
        GemmShape s;
        s.ta = ta, s.tb = tb;
        // Rows past one 96-row tile and not a multiple of 6, columns past one 64-column panel.
        s.m = 103, s.n = 70, s.k = 45, s.alpha = 0.75f, s.beta = -0.5f, s.ld_extra = 3;
        GemmProblem(ctx, invariant(s), dtype, 60 + 4 * ta + 2 * tb).check(ctx);
      }
}

TEST(GemmRowInvariant, BatchesBroadcastsAndPoisonedC) {
  Context ctx;
  for (wpm_dtype dtype : kDtypes) {
    SCOPED_TRACE(dtype_label(dtype));
    GemmShape batched;
    batched.tb = true;
    batched.m = 5, batched.n = 6, batched.k = 7, batched.batch = 3, batched.alpha = 1.25f, batched.beta = 0.5f;
    batched.gap = 5, batched.broadcast_b = true;
    GemmProblem(ctx, invariant(batched), dtype, 70).check(ctx);
    GemmShape poisoned;
    poisoned.m = 21, poisoned.n = 19, poisoned.k = 17, poisoned.alpha = -1.5f;
    GemmProblem(ctx, invariant(poisoned), dtype, 71, /*poison_c=*/true).check(ctx);
  }
}

// Every element is acc = fma(a_k, b_k, acc) for k in order from 0, then alpha acc and, with beta != 0,
// fma(beta, c, alpha acc): a host loop of fmaf in that order must give the same bits, on any ISA the
// backend picks (WORLDPM_CPU_MAX_ISA=avx2 or baseline run the other kernels).
TEST(GemmRowInvariant, EveryElementIsTheDocumentedSequenceOfFmas) {
  Context ctx;
  for (float beta : {0.0f, 0.625f}) {
    GemmShape s;
    s.tb = true;
    s.m = 131, s.n = 150, s.k = 1100, s.alpha = 1.5f, s.beta = beta;
    GemmProblem p(ctx, invariant(s), WPM_F32, 80);
    wpm_gemm_params params = p.params();
    WPM_ASSERT_OK(wpm_gemm(ctx, &params));
    std::vector<float> got = p.C.download();
    int64_t differ = 0;
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        float acc = 0.0f;
        for (int64_t l = 0; l < s.k; ++l) acc = std::fmaf(float(p.op_a(0, i, l)), float(p.op_b(0, l, j)), acc);
        float want = s.alpha * acc;
        if (beta != 0.0f) want = std::fmaf(beta, p.hc[p.c.at(0, i, j)], want);
        differ += std::memcmp(&want, &got[p.c.at(0, i, j)], 4) != 0;
      }
    EXPECT_EQ(differ, 0) << "elements that are not the documented sequence (beta " << beta << ")";
  }
}

// The property itself: a row of C computed alone is the same bits as the same row among 300, for rows at
// the start, inside and at the end of the matrix; the plain path makes no such promise.
TEST(GemmRowInvariant, ARowAloneIsTheSameBitsAsAmongMany) {
  Context ctx;
  const int64_t m = 300, n = 200, k = 700;
  std::vector<float> a = random_values(size_t(m * k), 90), b = random_values(size_t(n * k), 91);
  Buffer A(ctx, WPM_F32, a), B(ctx, WPM_F32, b), C(ctx, WPM_F32, std::vector<float>(size_t(m * n)));
  auto product = [&](const wpm_buffer* x, wpm_buffer* y, int64_t rows) {
    wpm_gemm_params p{};
    p.struct_size = sizeof p;
    p.trans_b = 1, p.m = rows, p.n = n, p.k = k, p.batch = 1, p.alpha = 1.0f, p.beta = 0.0f;
    p.a = x, p.b = B, p.c = y, p.row_invariant = 1;
    WPM_ASSERT_OK(wpm_gemm(ctx, &p));
  };
  product(A, C, m);
  std::vector<float> all = C.download();
  for (int64_t row : {int64_t(0), int64_t(7), int64_t(101), m - 1}) {
    Buffer one(ctx, WPM_F32, std::vector<float>(a.begin() + row * k, a.begin() + (row + 1) * k));
    Buffer out(ctx, WPM_F32, std::vector<float>(size_t(n)));
    product(one, out, 1);
    std::vector<float> alone = out.download();
    EXPECT_EQ(0, std::memcmp(alone.data(), all.data() + row * n, size_t(n) * 4)) << "row " << row;
  }
}

TEST(GemmRowInvariant, CallersBuiltAgainst04AndABadFlag) {
  Context ctx;
  GemmShape s;
  s.m = 4, s.n = 5, s.k = 6;
  GemmProblem old(ctx, s, WPM_F32, 95);
  wpm_gemm_params p = old.params();
  p.struct_size = offsetof(wpm_gemm_params, row_invariant);
  p.row_invariant = 7;  // past the declared size: never read
  WPM_ASSERT_OK(wpm_gemm(ctx, &p));
  p.struct_size = sizeof p;
  expect_error(wpm_gemm(ctx, &p), WPM_ERR_INVALID_ARGUMENT, {"'row_invariant'"});
  EXPECT_STREQ(wpm_last_error_argument(), "row_invariant");
}

}  // namespace
