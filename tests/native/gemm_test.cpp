// wpm_gemm against a float64 triple loop: the four transpose combinations,
// batches with strides and gaps, broadcast operands, non-tight leading
// dimensions, alpha/beta on a random C, panels of the f16/bf16 path, the
// backward formulas against finite differences, determinism, and argument
// errors that name the argument.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "gemm_problem.h"
#include "test_util.h"

namespace {

using namespace wpm_test;

const wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};

TEST(Gemm, AllTransposeCombinationsMatchFloat64) {
  Context ctx;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (wpm_dtype dtype : kDtypes) {
        SCOPED_TRACE("trans_a=" + std::to_string(ta) + " trans_b=" + std::to_string(tb));
        GemmShape s;
        s.ta = ta;
        s.tb = tb;
        s.m = 37, s.n = 29, s.k = 45, s.alpha = 0.75f, s.beta = -0.5f;
        GemmProblem(ctx, s, dtype, 10 + 4 * ta + 2 * tb).check(ctx);
      }
}

TEST(Gemm, BatchesWithStridesGapsAndLeadingDimensions) {
  Context ctx;
  // 5x6x7 items go over the thread pool one per thread; 70^3 items run one after another on BLAS threads.
  for (int64_t size : {5, 70})
    for (wpm_dtype dtype : kDtypes) {
      SCOPED_TRACE("size " + std::to_string(size));
      GemmShape s;
      s.ta = true;
      s.m = size, s.n = size + 1, s.k = size + 2, s.batch = 3, s.alpha = 1.25f, s.beta = 0.5f;
      s.ld_extra = 3, s.gap = 5;
      GemmProblem(ctx, s, dtype, 20).check(ctx);
      s.ta = false, s.tb = true;
      GemmProblem(ctx, s, dtype, 21).check(ctx);
    }
}

TEST(Gemm, StrideZeroBroadcastsB) {
  Context ctx;
  for (wpm_dtype dtype : kDtypes) {
    GemmShape s;
    s.m = 9, s.n = 11, s.k = 13, s.batch = 4, s.beta = 1.0f, s.broadcast_b = true;
    GemmProblem(ctx, s, dtype, 30).check(ctx);
  }
}

TEST(Gemm, BetaZeroOverwritesPoisonedC) {
  Context ctx;
  for (wpm_dtype dtype : kDtypes) {
    GemmShape s;
    s.tb = true;
    s.m = 21, s.n = 19, s.k = 17, s.batch = 2, s.alpha = -1.5f, s.gap = 4;
    GemmProblem(ctx, s, dtype, 40, /*poison_c=*/true).check(ctx);
  }
}

TEST(Gemm, HalfPrecisionSpansSeveralPanels) {
  Context ctx;
  // The f16/bf16 path converts panels of at most 1024 x 1024: cross that in k and n, and in m.
  GemmShape wide;
  wide.m = 6, wide.n = 1030, wide.k = 1100, wide.beta = 0.5f, wide.ld_extra = 2;
  GemmShape tall;
  tall.ta = true, tall.tb = true;
  tall.m = 1030, tall.n = 5, tall.k = 8, tall.beta = -1.0f;
  for (wpm_dtype dtype : {WPM_F16, WPM_BF16}) {
    GemmProblem(ctx, wide, dtype, 50).check(ctx);
    GemmProblem(ctx, tall, dtype, 51).check(ctx);
  }
}

// loss = sum(W .* (A B)); dA = W B^T and dB = A^T W, each one more wpm_gemm call.
TEST(Gemm, BackwardFormulasMatchFiniteDifferences) {
  Context ctx;
  const int64_t m = 4, k = 3, n = 5;
  std::vector<float> a = random_values(m * k, 60), b = random_values(k * n, 61), w = random_values(m * n, 62);
  Buffer A(ctx, WPM_F32, a), B(ctx, WPM_F32, b), W(ctx, WPM_F32, w);
  Buffer dA(ctx, WPM_F32, m * k), dB(ctx, WPM_F32, k * n);
  dA.poison();
  dB.poison();
  wpm_gemm_params p{};
  p.struct_size = sizeof p;
  p.batch = 1, p.alpha = 1.0f, p.beta = 0.0f;
  p.m = m, p.n = k, p.k = n, p.trans_b = 1, p.a = W, p.b = B, p.c = dA;  // dA = W B^T
  WPM_ASSERT_OK(wpm_gemm(ctx, &p));
  p.m = k, p.n = n, p.k = m, p.trans_a = 1, p.trans_b = 0, p.a = A, p.b = W, p.c = dB;  // dB = A^T W
  WPM_ASSERT_OK(wpm_gemm(ctx, &p));

  auto loss = [&](const std::vector<double>& av, const std::vector<double>& bv) {
    double sum = 0;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t l = 0; l < k; ++l) sum += w[i * n + j] * av[i * k + l] * bv[l * n + j];
    return sum;
  };
  std::vector<double> a64(a.begin(), a.end()), b64(b.begin(), b.end());
  EXPECT_LE(rel_error(dA.download(), finite_difference(a64, [&](const auto& x) { return loss(x, b64); })), 1e-4);
  EXPECT_LE(rel_error(dB.download(), finite_difference(b64, [&](const auto& x) { return loss(a64, x); })), 1e-4);
}

TEST(Gemm, RepeatedCallsGiveIdenticalBits) {
  Context ctx;
  for (wpm_dtype dtype : kDtypes) {
    GemmShape s;
    s.m = 130, s.n = 70, s.k = 300, s.batch = 2, s.alpha = 0.5f, s.beta = 2.0f;
    GemmProblem problem(ctx, s, dtype, 70);
    wpm_gemm_params p = problem.params();
    WPM_ASSERT_OK(wpm_gemm(ctx, &p));
    std::vector<float> first = problem.C.download();
    problem.C.upload(problem.hc);
    WPM_ASSERT_OK(wpm_gemm(ctx, &p));
    std::vector<float> second = problem.C.download();
    EXPECT_EQ(0, std::memcmp(first.data(), second.data(), first.size() * 4)) << dtype_label(dtype);
  }
}

TEST(Gemm, BadArgumentsAreRejectedByName) {
  Context ctx, other;
  GemmShape s;
  s.m = 4, s.n = 5, s.k = 6, s.batch = 2;
  GemmProblem problem(ctx, s, WPM_F32, 80);
  const wpm_gemm_params good = problem.params();
  Buffer half(ctx, WPM_F16, 1000), ints(ctx, WPM_I32, 1000), tiny(ctx, WPM_F32, 10), foreign(other, WPM_F32, 1000);

  expect_error(wpm_gemm(nullptr, &good), WPM_ERR_INVALID_ARGUMENT, {"'context'"});
  expect_error(wpm_gemm(ctx, nullptr), WPM_ERR_INVALID_ARGUMENT, {"'params'"});
  auto with = [&](auto change) {
    wpm_gemm_params p = good;
    change(p);
    return wpm_gemm(ctx, &p);
  };
  expect_error(with([](auto& p) { p.struct_size = 8; }), WPM_ERR_INVALID_ARGUMENT, {"'params'", "struct_size"});
  expect_error(with([](auto& p) { p.m = 0; }), WPM_ERR_INVALID_ARGUMENT, {"'m'"});
  expect_error(with([](auto& p) { p.k = -3; }), WPM_ERR_INVALID_ARGUMENT, {"'k'"});
  expect_error(with([](auto& p) { p.batch = 0; }), WPM_ERR_INVALID_ARGUMENT, {"'batch'"});
  expect_error(with([](auto& p) { p.trans_a = 2; }), WPM_ERR_INVALID_ARGUMENT, {"'trans_a'"});
  expect_error(with([](auto& p) { p.alpha = NAN; }), WPM_ERR_INVALID_ARGUMENT, {"'alpha'"});
  expect_error(with([](auto& p) { p.a = nullptr; }), WPM_ERR_INVALID_ARGUMENT, {"'a'", "NULL"});
  expect_error(with([&](auto& p) { p.b = half; }), WPM_ERR_DTYPE, {"'b'", "f16", "f32"});
  expect_error(with([&](auto& p) { p.c = ints; }), WPM_ERR_DTYPE, {"'c'", "i32"});
  expect_error(with([&](auto& p) { p.c = tiny; }), WPM_ERR_INVALID_ARGUMENT, {"'c'", "10 elements"});
  expect_error(with([&](auto& p) { p.a = foreign; }), WPM_ERR_WRONG_CONTEXT, {"'a'"});
  expect_error(with([](auto& p) { p.lda = 5; }), WPM_ERR_INVALID_ARGUMENT, {"'lda'", "at least 6"});
  expect_error(with([](auto& p) { p.ldc = -1; }), WPM_ERR_INVALID_ARGUMENT, {"'ldc'"});
  expect_error(with([](auto& p) { p.lda = INT64_MAX / 2; }), WPM_ERR_INVALID_ARGUMENT, {"'lda'", "span"});
  expect_error(with([](auto& p) { p.stride_c = 19; }), WPM_ERR_INVALID_ARGUMENT, {"'stride_c'", "overlap"});
  expect_error(with([](auto& p) { p.stride_b = -30; }), WPM_ERR_INVALID_ARGUMENT, {"'stride_b'"});
}

}  // namespace
