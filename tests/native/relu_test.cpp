// ReLU forward and backward against float64 references, every dtype, odd sizes.
#include <cmath>
#include <limits>

#include "test_util.h"

using namespace wpm_test;

namespace {
constexpr wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};
}

TEST(Relu, ForwardAndBackwardMatchReference) {
  Context ctx;
  for (wpm_dtype dtype : kDtypes) {
    for (int64_t n : {1, 7, 33, 100003}) {
      std::vector<float> x = random_values(size_t(n), 1 + uint32_t(n), -2, 2, dtype);
      std::vector<float> dout = random_values(size_t(n), 2 + uint32_t(n), -1, 1, dtype);
      Buffer bx(ctx, dtype, x), bdout(ctx, dtype, dout), bout(ctx, dtype, size_t(n)), bdx(ctx, dtype, size_t(n));
      bout.poison();
      bdx.poison();
      WPM_ASSERT_OK(wpm_relu_fwd(ctx, bx, bout, n));
      WPM_ASSERT_OK(wpm_relu_bwd(ctx, bdout, bx, bdx, n));
      std::vector<double> ref_out(x.size()), ref_dx(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        ref_out[i] = x[i] > 0 ? double(x[i]) : 0.0;
        ref_dx[i] = x[i] > 0 ? double(dout[i]) : 0.0;
      }
      EXPECT_EQ(rel_error(bout.download(), ref_out), 0.0) << dtype_label(dtype) << " n " << n;
      EXPECT_EQ(rel_error(bdx.download(), ref_dx), 0.0) << dtype_label(dtype) << " n " << n;
    }
  }
}

TEST(Relu, BackwardMatchesFiniteDifferences) {
  Context ctx;
  std::vector<float> x = random_values(64, 5, -1, 1), dout = random_values(64, 6, -1, 1);
  Buffer bx(ctx, WPM_F32, x), bdout(ctx, WPM_F32, dout), bdx(ctx, WPM_F32, 64);
  WPM_ASSERT_OK(wpm_relu_bwd(ctx, bdout, bx, bdx, 64));
  std::vector<double> xd(x.begin(), x.end());
  auto loss = [&](const std::vector<double>& v) {
    double s = 0;
    for (size_t i = 0; i < v.size(); ++i) s += dout[i] * std::max(v[i], 0.0);
    return s;
  };
  EXPECT_LE(rel_error(bdx.download(), finite_difference(xd, loss)), 1e-6);
}

TEST(Relu, NanPropagates) {
  Context ctx;
  Buffer bx(ctx, WPM_F32, {std::numeric_limits<float>::quiet_NaN(), -1.0f}), bout(ctx, WPM_F32, 2);
  WPM_ASSERT_OK(wpm_relu_fwd(ctx, bx, bout, 2));
  std::vector<float> out = bout.download();
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 0.0f);
}

TEST(Relu, BadArgumentsAreNamed) {
  Context ctx;
  Buffer x(ctx, WPM_F32, 8), small(ctx, WPM_F32, 4), half(ctx, WPM_F16, 8), ids(ctx, WPM_I32, 8);
  expect_error(wpm_relu_fwd(ctx, nullptr, x, 8), WPM_ERR_INVALID_ARGUMENT, "'x'");
  expect_error(wpm_relu_fwd(ctx, x, small, 8), WPM_ERR_INVALID_ARGUMENT, {"'out'", "holds 4"});
  expect_error(wpm_relu_fwd(ctx, x, half, 8), WPM_ERR_DTYPE, "'out'");
  expect_error(wpm_relu_fwd(ctx, ids, ids, 8), WPM_ERR_DTYPE, {"'x'", "i32"});
  expect_error(wpm_relu_fwd(ctx, x, x, -1), WPM_ERR_INVALID_ARGUMENT, "'n'");
  expect_error(wpm_relu_bwd(ctx, x, x, half, 8), WPM_ERR_DTYPE, "'dx'");
  expect_error(wpm_relu_bwd(nullptr, x, x, x, 8), WPM_ERR_INVALID_ARGUMENT, "'context'");
}
