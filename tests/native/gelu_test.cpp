// GELU (tanh and exact forms): forward and backward against a float64
// reference in f32/f16/bf16 at odd sizes (tails, several threads), the far
// tails, in place, gradients vs finite differences, and the argument checks.
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
constexpr wpm_gelu_kind kKinds[] = {WPM_GELU_TANH, WPM_GELU_EXACT};

// GELU and its derivative in float64, straight from the definitions.
double ref_gelu(double x, wpm_gelu_kind kind) {
  if (kind == WPM_GELU_EXACT) return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  const double k = std::sqrt(2 / M_PI);
  return 0.5 * x * (1 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

double ref_gelu_grad(double x, wpm_gelu_kind kind) {
  if (kind == WPM_GELU_EXACT)
    return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
  const double k = std::sqrt(2 / M_PI);
  const double t = std::tanh(k * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
}

std::vector<double> ref_fwd(const std::vector<float>& x, wpm_gelu_kind kind) {
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = ref_gelu(x[i], kind);
  return out;
}

std::vector<double> ref_bwd(const std::vector<float>& dout, const std::vector<float>& x, wpm_gelu_kind kind) {
  std::vector<double> dx(x.size());
  for (size_t i = 0; i < x.size(); ++i) dx[i] = dout[i] * ref_gelu_grad(x[i], kind);
  return dx;
}

std::vector<float> run_fwd(wpm_context* ctx, wpm_dtype dtype, const std::vector<float>& x, wpm_gelu_kind kind) {
  Buffer bx(ctx, dtype, x), out(ctx, dtype, x.size());
  out.poison();
  EXPECT_EQ(wpm_gelu_fwd(ctx, bx, out, int64_t(x.size()), kind), WPM_OK) << wpm_last_error();
  return out.download();
}

std::vector<float> run_bwd(wpm_context* ctx, wpm_dtype dtype, const std::vector<float>& dout,
                           const std::vector<float>& x, wpm_gelu_kind kind) {
  Buffer bd(ctx, dtype, dout), bx(ctx, dtype, x), dx(ctx, dtype, x.size());
  dx.poison();
  EXPECT_EQ(wpm_gelu_bwd(ctx, bd, bx, dx, int64_t(x.size()), kind), WPM_OK) << wpm_last_error();
  return dx.download();
}


TEST(Gelu, ForwardMatchesReference) {
  Context ctx;
  for (wpm_dtype dtype : kDtypes)
    for (wpm_gelu_kind kind : kKinds)
      for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(100003)}) {
        std::vector<float> x = wpm_test::random_values(n, uint32_t(n + kind), -5, 5, dtype);
        EXPECT_LE(wpm_test::rel_error(run_fwd(ctx, dtype, x, kind), ref_fwd(x, kind)),
                  wpm_test::tolerance(dtype, false))
            << wpm_test::dtype_label(dtype) << " kind " << kind << " n " << n;
      }
}

TEST(Gelu, BackwardMatchesReference) {
  Context ctx;
  for (wpm_dtype dtype : kDtypes)
    for (wpm_gelu_kind kind : kKinds)
      for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(100003)}) {
        std::vector<float> x = wpm_test::random_values(n, uint32_t(3 * n + kind), -5, 5, dtype);
        std::vector<float> dout = wpm_test::random_values(n, uint32_t(5 * n + kind), -1, 1, dtype);
        EXPECT_LE(wpm_test::rel_error(run_bwd(ctx, dtype, dout, x, kind), ref_bwd(dout, x, kind)),
                  wpm_test::tolerance(dtype, false))
            << wpm_test::dtype_label(dtype) << " kind " << kind << " n " << n;
      }
}

TEST(Gelu, LargeF32TensorOverThreads) {
  Context ctx(3);
  const size_t n = 1000003;
  std::vector<float> x = wpm_test::random_values(n, 11, -6, 6);
  std::vector<float> dout = wpm_test::random_values(n, 12, -1, 1);
  EXPECT_LE(wpm_test::rel_error(run_fwd(ctx, WPM_F32, x, WPM_GELU_TANH), ref_fwd(x, WPM_GELU_TANH)), 1e-5);
  EXPECT_LE(wpm_test::rel_error(run_bwd(ctx, WPM_F32, dout, x, WPM_GELU_TANH), ref_bwd(dout, x, WPM_GELU_TANH)),
            1e-5);
}

TEST(Gelu, FarTailsStayFiniteAndExact) {
  Context ctx;
  const std::vector<float> x = {-1e4f, -100.0f, -30.0f, -9.0f, 9.0f, 30.0f, 100.0f, 1e4f};
  const std::vector<float> dout(x.size(), 1.0f);
  for (wpm_gelu_kind kind : kKinds) {
    std::vector<float> out = run_fwd(ctx, WPM_F32, x, kind);
    std::vector<float> dx = run_bwd(ctx, WPM_F32, dout, x, kind);
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_NEAR(out[i], ref_gelu(x[i], kind), 1e-6 * std::fabs(x[i])) << "x " << x[i] << " kind " << kind;
      EXPECT_NEAR(dx[i], ref_gelu_grad(x[i], kind), 1e-6) << "x " << x[i] << " kind " << kind;
    }
  }
}

// x = ±10^e for e from -30 to 30 in steps of 0.001, then uniform in [-12, 12]:
// 2.1M values, 8.4 MB, beyond the caches, so the CPU backend streams the output.
std::vector<float> wide_range_values() {
  std::vector<float> x;
  for (int k = -30000; k <= 30000; ++k) {
    const float magnitude = float(std::pow(10.0, k / 1000.0));
    x.push_back(magnitude);
    x.push_back(-magnitude);
  }
  const std::vector<float> moderate = wpm_test::random_values(2100001 - x.size(), 61, -12, 12);
  x.insert(x.end(), moderate.begin(), moderate.end());
  return x;
}

// Runs op(in view, out view) on views that start 3 and 5 elements into their
// buffers, off any 64-byte boundary, and returns the out view's elements.
template <class Op>
std::vector<float> run_on_views(wpm_context* ctx, const std::vector<std::vector<float>>& inputs, Op&& op) {
  const size_t n = inputs[0].size();
  std::vector<Buffer> parents;
  std::vector<wpm_buffer*> views;
  for (const std::vector<float>& values : inputs) {
    std::vector<float> shifted(3, 1.0f);
    shifted.insert(shifted.end(), values.begin(), values.end());
    parents.emplace_back(ctx, WPM_F32, shifted);
    views.push_back(nullptr);
    EXPECT_EQ(wpm_buffer_view(parents.back(), 3, n, &views.back()), WPM_OK) << wpm_last_error();
  }
  Buffer out(ctx, WPM_F32, n + 5);
  out.poison();
  wpm_buffer* out_view = nullptr;
  EXPECT_EQ(wpm_buffer_view(out, 5, n, &out_view), WPM_OK) << wpm_last_error();
  EXPECT_EQ(op(views, out_view), WPM_OK) << wpm_last_error();
  for (wpm_buffer* v : views) wpm_buffer_free(v);
  wpm_buffer_free(out_view);
  std::vector<float> all = out.download();
  return std::vector<float>(all.begin() + 5, all.end());
}

// The tanh form as x sigmoid(2u) in float64, with 1 - sigmoid(2u) formed from
// e^-|2u|: 1 + tanh(u) cancels in float64 too once x < -6 (gelu(-7) ~ 1e-16),
// so ref_gelu cannot judge the far negative side.
double two_u(double x) { return 2 * std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x); }

double ref_gelu_tanh_stable(double x) { return x / (1 + std::exp(-two_u(x))); }

double ref_gelu_tanh_grad_stable(double x) {
  const double z = two_u(x), e = std::exp(-std::fabs(z));
  const double s = 1 / (1 + std::exp(-z)), s_times_one_minus_s = e / ((1 + e) * (1 + e));
  return s + 2 * x * s_times_one_minus_s * std::sqrt(2 / M_PI) * (1 + 3 * 0.044715 * x * x);
}

// What an fp32 evaluation can promise: u is rounded once it is formed, and
// e^-2u turns that into a relative error of about |2u| ulp (~1e-5 at x = -9.5,
// for the old and the new kernel alike).
double tanh_form_relative_bound(double x) { return 1e-6 + 4e-7 * std::fabs(two_u(x)); }

TEST(Gelu, TanhF32MatchesFloat64OverAWideRange) {
  // The f32 tanh form is the CPU backend's AVX-512 path where the CPU has one.
  Context ctx;
  const std::vector<float> x = wide_range_values();
  const std::vector<float> dout = wpm_test::random_values(x.size(), 62, -1, 1);
  const int64_t n = int64_t(x.size());
  std::vector<float> out = run_on_views(ctx, {x}, [&](const std::vector<wpm_buffer*>& in, wpm_buffer* o) {
    return wpm_gelu_fwd(ctx, in[0], o, n, WPM_GELU_TANH);
  });
  std::vector<float> dx = run_on_views(ctx, {dout, x}, [&](const std::vector<wpm_buffer*>& in, wpm_buffer* o) {
    return wpm_gelu_bwd(ctx, in[0], in[1], o, n, WPM_GELU_TANH);
  });
  std::vector<double> ref(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ref[i] = ref_gelu_tanh_stable(x[i]);
    const double bound = tanh_form_relative_bound(x[i]);
    // Below x ~ -10, e^-2u is held at its clamp (sigmoid ~1e-38) while the
    // reference keeps falling: an absolute error under 1e-37 |x|.
    ASSERT_LE(std::fabs(out[i] - ref[i]), bound * std::fabs(ref[i]) + 1e-37 * std::fabs(x[i])) << "x " << x[i];
    // The fp32 derivative keeps a term 2x e^-2u s^2 du(x) ~ 1e-38 x^3 that only
    // the clamp bounds, so beyond |x| ~ 1e10 it is no longer negligible.
    if (std::fabs(x[i]) > 1e10f) continue;
    const double ref_dx = dout[i] * ref_gelu_tanh_grad_stable(x[i]);
    ASSERT_LE(std::fabs(dx[i] - ref_dx), bound * std::fabs(ref_dx) + 1e-6) << "x " << x[i];
  }
  EXPECT_LE(wpm_test::rel_error(out, ref), 1e-6);
}

TEST(Gelu, TanhF32InfinitiesComeOutAsTheyAlwaysHave) {
  // x sigmoid(2u): +inf -> +inf; -inf times a sigmoid held at ~1e-38 -> -inf.
  Context ctx;
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {inf, -inf, 1.0f}, dout(x.size(), 1.0f);
  const std::vector<float> out = run_fwd(ctx, WPM_F32, x, WPM_GELU_TANH);
  const std::vector<float> dx = run_bwd(ctx, WPM_F32, dout, x, WPM_GELU_TANH);
  EXPECT_EQ(out[0], inf);
  EXPECT_EQ(out[1], -inf);
  EXPECT_EQ(dx[0], inf);
  EXPECT_EQ(dx[1], -inf);
}

TEST(Gelu, NanInGivesNanOut) {
  Context ctx;
  std::vector<float> x = wpm_test::random_values(37, 23, -3, 3);
  x[5] = x[36] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> dout(x.size(), 1.0f);
  for (wpm_gelu_kind kind : kKinds) {
    std::vector<float> out = run_fwd(ctx, WPM_F32, x, kind), dx = run_bwd(ctx, WPM_F32, dout, x, kind);
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(std::isnan(out[i]), std::isnan(x[i])) << i << " kind " << kind;
      EXPECT_EQ(std::isnan(dx[i]), std::isnan(x[i])) << i << " kind " << kind;
    }
  }
}

TEST(Gelu, InPlaceMatchesOutOfPlace) {
  Context ctx;
  for (wpm_dtype dtype : kDtypes) {
    std::vector<float> x = wpm_test::random_values(40001, 21, -4, 4, dtype);
    std::vector<float> dout = wpm_test::random_values(40001, 22, -1, 1, dtype);
    Buffer bx(ctx, dtype, x), bd(ctx, dtype, dout);
    WPM_ASSERT_OK(wpm_gelu_fwd(ctx, bx, bx, int64_t(x.size()), WPM_GELU_TANH));
    EXPECT_EQ(bx.download(), run_fwd(ctx, dtype, x, WPM_GELU_TANH)) << wpm_test::dtype_label(dtype);
    bx.upload(x);
    WPM_ASSERT_OK(wpm_gelu_bwd(ctx, bd, bx, bd, int64_t(x.size()), WPM_GELU_EXACT));
    EXPECT_EQ(bd.download(), run_bwd(ctx, dtype, dout, x, WPM_GELU_EXACT)) << wpm_test::dtype_label(dtype);
  }
}

TEST(Gelu, BackwardMatchesFiniteDifferences) {
  Context ctx;
  const size_t n = 9;
  std::vector<float> x = wpm_test::random_values(n, 31, -3, 3);
  std::vector<float> dout = wpm_test::random_values(n, 32, -1, 1);
  for (wpm_gelu_kind kind : kKinds) {
    auto loss = [&](const std::vector<double>& xd) {
      double sum = 0;
      for (size_t i = 0; i < n; ++i) sum += dout[i] * ref_gelu(xd[i], kind);
      return sum;
    };
    std::vector<double> fd = wpm_test::finite_difference(std::vector<double>(x.begin(), x.end()), loss);
    EXPECT_LE(wpm_test::rel_error(run_bwd(ctx, WPM_F32, dout, x, kind), fd), 1e-5) << "kind " << kind;
  }
}

TEST(Gelu, RejectsBadArguments) {
  Context ctx;
  Buffer x(ctx, WPM_F32, 16), out(ctx, WPM_F32, 16), small(ctx, WPM_F32, 8), half(ctx, WPM_F16, 16),
      ids(ctx, WPM_I32, 16);
  expect_error(wpm_gelu_fwd(ctx, nullptr, out, 16, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT, "'x'");
  expect_error(wpm_gelu_fwd(ctx, x, small, 16, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT, "'out'");
  expect_error(wpm_gelu_fwd(ctx, x, half, 16, WPM_GELU_TANH), WPM_ERR_DTYPE, "'out'");
  expect_error(wpm_gelu_fwd(ctx, ids, out, 16, WPM_GELU_TANH), WPM_ERR_DTYPE, "'x'");
  expect_error(wpm_gelu_fwd(ctx, x, out, -1, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT, "n");
  expect_error(wpm_gelu_fwd(ctx, x, out, 16, static_cast<wpm_gelu_kind>(5)), WPM_ERR_INVALID_ARGUMENT, "'kind'");
  expect_error(wpm_gelu_fwd(nullptr, x, out, 16, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT, "'context'");
  expect_error(wpm_gelu_bwd(ctx, x, x, nullptr, 16, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT, "'dx'");
  expect_error(wpm_gelu_bwd(ctx, x, small, out, 16, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT, "'x'");
  expect_error(wpm_gelu_bwd(ctx, x, half, out, 16, WPM_GELU_TANH), WPM_ERR_DTYPE, "'x'");
  expect_error(wpm_gelu_bwd(ctx, x, x, out, 16, static_cast<wpm_gelu_kind>(-1)), WPM_ERR_INVALID_ARGUMENT,
               "'kind'");
}

}  // namespace
