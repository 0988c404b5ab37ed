// SwiGLU: forward and backward against a float64 reference in f32/f16/bf16 at
// odd sizes (tails, several threads), far tails, gradients vs finite
// differences, and the argument checks.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;

constexpr wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};

double ref_sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double ref_silu(double g) { return g * ref_sigmoid(g); }
double ref_silu_grad(double g) { return ref_sigmoid(g) * (1 + g * (1 - ref_sigmoid(g))); }

struct Inputs {
  std::vector<float> gate, up, dout;
};

Inputs random_inputs(size_t n, uint32_t seed, wpm_dtype dtype, float spread = 6.0f) {
  return {wpm_test::random_values(n, seed, -spread, spread, dtype),
          wpm_test::random_values(n, seed + 1, -2, 2, dtype), wpm_test::random_values(n, seed + 2, -1, 1, dtype)};
}

std::vector<float> run_fwd(wpm_context* ctx, wpm_dtype dtype, const Inputs& in) {
  const size_t n = in.gate.size();
  Buffer g(ctx, dtype, in.gate), u(ctx, dtype, in.up), out(ctx, dtype, n);
  out.poison();
  EXPECT_EQ(wpm_swiglu_fwd(ctx, g, u, out, int64_t(n)), WPM_OK) << wpm_last_error();
  return out.download();
}

// Returns {dgate, dup}.
std::pair<std::vector<float>, std::vector<float>> run_bwd(wpm_context* ctx, wpm_dtype dtype, const Inputs& in) {
  const size_t n = in.gate.size();
  Buffer d(ctx, dtype, in.dout), g(ctx, dtype, in.gate), u(ctx, dtype, in.up), dg(ctx, dtype, n), du(ctx, dtype, n);
  dg.poison();
  du.poison();
  EXPECT_EQ(wpm_swiglu_bwd(ctx, d, g, u, dg, du, int64_t(n)), WPM_OK) << wpm_last_error();
  return {dg.download(), du.download()};
}


TEST(Swiglu, ForwardMatchesReference) {
  Context ctx(3);
  for (wpm_dtype dtype : kDtypes)
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(100003)}) {
      Inputs in = random_inputs(n, uint32_t(n), dtype);
      std::vector<double> ref(n);
      for (size_t i = 0; i < n; ++i) ref[i] = ref_silu(in.gate[i]) * in.up[i];
      EXPECT_LE(wpm_test::rel_error(run_fwd(ctx, dtype, in), ref), wpm_test::tolerance(dtype, false))
          << wpm_test::dtype_label(dtype) << " n " << n;
    }
}

TEST(Swiglu, BackwardMatchesReference) {
  Context ctx(3);
  for (wpm_dtype dtype : kDtypes)
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(100003)}) {
      Inputs in = random_inputs(n, uint32_t(7 * n), dtype);
      std::vector<double> ref_dg(n), ref_du(n);
      for (size_t i = 0; i < n; ++i) {
        ref_dg[i] = in.dout[i] * double(in.up[i]) * ref_silu_grad(in.gate[i]);
        ref_du[i] = in.dout[i] * ref_silu(in.gate[i]);
      }
      auto [dg, du] = run_bwd(ctx, dtype, in);
      EXPECT_LE(wpm_test::rel_error(dg, ref_dg), wpm_test::tolerance(dtype, false))
          << wpm_test::dtype_label(dtype) << " n " << n;
      EXPECT_LE(wpm_test::rel_error(du, ref_du), wpm_test::tolerance(dtype, false))
          << wpm_test::dtype_label(dtype) << " n " << n;
    }
}

TEST(Swiglu, FarTailsStayFinite) {
  Context ctx;
  Inputs in{{-1e4f, -200.0f, -90.0f, -20.0f, 20.0f, 90.0f, 200.0f, 1e4f}, {}, {}};
  in.up.assign(in.gate.size(), 1.5f);
  in.dout.assign(in.gate.size(), 1.0f);
  std::vector<float> out = run_fwd(ctx, WPM_F32, in);
  auto [dg, du] = run_bwd(ctx, WPM_F32, in);
  for (size_t i = 0; i < in.gate.size(); ++i) {
    const double g = in.gate[i];
    EXPECT_NEAR(out[i], 1.5 * ref_silu(g), 1e-6 * std::fabs(g)) << "gate " << g;
    EXPECT_NEAR(du[i], ref_silu(g), 1e-6 * std::fabs(g)) << "gate " << g;
    EXPECT_NEAR(dg[i], 1.5 * ref_silu_grad(g), 1e-6) << "gate " << g;
  }
}

TEST(Swiglu, NanInGivesNanOut) {
  Context ctx;
  Inputs in = random_inputs(37, 43, WPM_F32);
  in.gate[5] = in.up[36] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> out = run_fwd(ctx, WPM_F32, in);
  auto [dg, du] = run_bwd(ctx, WPM_F32, in);
  for (size_t i = 0; i < in.gate.size(); ++i) {
    const bool nan = i == 5 || i == 36;
    EXPECT_EQ(std::isnan(out[i]), nan) << i;
    EXPECT_EQ(std::isnan(dg[i]), nan) << i;
    EXPECT_EQ(std::isnan(du[i]), i == 5) << i;  // dup = dout silu(gate) does not read up
  }
}

TEST(Swiglu, BackwardMatchesFiniteDifferences) {
  Context ctx;
  const size_t n = 8;
  Inputs in = random_inputs(n, 41, WPM_F32, 4.0f);
  // loss(gate, up) = sum dout * silu(gate) * up, with gate and up packed into one vector.
  std::vector<double> packed(in.gate.begin(), in.gate.end());
  packed.insert(packed.end(), in.up.begin(), in.up.end());
  auto loss = [&](const std::vector<double>& p) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += in.dout[i] * ref_silu(p[i]) * p[n + i];
    return sum;
  };
  std::vector<double> fd = wpm_test::finite_difference(packed, loss);
  auto [dg, du] = run_bwd(ctx, WPM_F32, in);
  EXPECT_LE(wpm_test::rel_error(dg, std::vector<double>(fd.begin(), fd.begin() + n)), 1e-5);
  EXPECT_LE(wpm_test::rel_error(du, std::vector<double>(fd.begin() + n, fd.end())), 1e-5);
}

TEST(Swiglu, RejectsBadArguments) {
  Context ctx;
  Buffer a(ctx, WPM_F32, 16), b(ctx, WPM_F32, 16), c(ctx, WPM_F32, 16), d(ctx, WPM_F32, 16),
      small(ctx, WPM_F32, 15), bf(ctx, WPM_BF16, 16), ids(ctx, WPM_I32, 16);
  expect_error(wpm_swiglu_fwd(ctx, a, nullptr, c, 16), WPM_ERR_INVALID_ARGUMENT, "'up'");
  expect_error(wpm_swiglu_fwd(ctx, a, b, small, 16), WPM_ERR_INVALID_ARGUMENT, "'out'");
  expect_error(wpm_swiglu_fwd(ctx, a, bf, c, 16), WPM_ERR_DTYPE, "'up'");
  expect_error(wpm_swiglu_fwd(ctx, ids, b, c, 16), WPM_ERR_DTYPE, "'gate'");
  expect_error(wpm_swiglu_fwd(ctx, a, b, c, -3), WPM_ERR_INVALID_ARGUMENT, "n");
  expect_error(wpm_swiglu_bwd(ctx, a, b, c, d, nullptr, 16), WPM_ERR_INVALID_ARGUMENT, "'dup'");
  expect_error(wpm_swiglu_bwd(ctx, a, b, c, small, d, 16), WPM_ERR_INVALID_ARGUMENT, "'dgate'");
  expect_error(wpm_swiglu_bwd(ctx, a, b, c, bf, d, 16), WPM_ERR_DTYPE, "'dgate'");
  expect_error(wpm_swiglu_bwd(ctx, a, b, c, d, d, 16), WPM_ERR_INVALID_ARGUMENT, "'dup'");
}

}  // namespace
