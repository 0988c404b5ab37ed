// RMSNorm: forward (out and the saved rstd) and backward (dx overwritten,
// dweight accumulated onto random values) against a float64 reference in
// f32/f16/bf16 at odd shapes over several threads, gradients vs finite
// differences, bit-for-bit determinism, and the argument checks.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::rmsnorm_fwd;
using wpm_test::rmsnorm_bwd;
using wpm_test::expect_error;

constexpr wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};
constexpr float kEps = 1e-6f;

struct Shape {
  int64_t n, c;
};
constexpr Shape kShapes[] = {{1, 1}, {1, 3}, {3, 7}, {5, 33}, {37, 1031}, {9, 4099}};

struct Case {
  Shape shape;
  std::vector<float> x, weight, dout, dweight0;
};

Case random_case(Shape s, uint32_t seed, wpm_dtype dtype) {
  const size_t total = size_t(s.n * s.c);
  return {s, wpm_test::random_values(total, seed, -2, 2, dtype),
          wpm_test::random_values(size_t(s.c), seed + 1, 0.5f, 1.5f, dtype),
          wpm_test::random_values(total, seed + 2, -1, 1, dtype),
          wpm_test::random_values(size_t(s.c), seed + 3, -1, 1, dtype)};
}

double ref_rstd(const std::vector<double>& x, int64_t row, int64_t c) {
  double ss = 0;
  for (int64_t j = 0; j < c; ++j) ss += x[row * c + j] * x[row * c + j];
  return 1 / std::sqrt(ss / double(c) + double(kEps));
}

// out = x rstd w, written from the definition (x and w as float64 vectors).
std::vector<double> ref_fwd(const std::vector<double>& x, const std::vector<double>& w, Shape s) {
  std::vector<double> out(x.size());
  for (int64_t row = 0; row < s.n; ++row) {
    const double r = ref_rstd(x, row, s.c);
    for (int64_t j = 0; j < s.c; ++j) out[row * s.c + j] = x[row * s.c + j] * r * w[j];
  }
  return out;
}

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// Returns {dx, dweight0 + dweight} in float64.
std::pair<std::vector<double>, std::vector<double>> ref_bwd(const Case& k) {
  const Shape s = k.shape;
  std::vector<double> x = to_double(k.x), dx(x.size()), dw = to_double(k.dweight0);
  for (int64_t row = 0; row < s.n; ++row) {
    const double r = ref_rstd(x, row, s.c);
    double dot = 0;
    for (int64_t j = 0; j < s.c; ++j) dot += double(k.dout[row * s.c + j]) * k.weight[j] * x[row * s.c + j];
    for (int64_t j = 0; j < s.c; ++j) {
      const int64_t i = row * s.c + j;
      dx[i] = r * (double(k.dout[i]) * k.weight[j] - x[i] * r * r * dot / double(s.c));
      dw[j] += double(k.dout[i]) * x[i] * r;
    }
  }
  return {dx, dw};
}

struct Outputs {
  std::vector<float> out, rstd, dx, dweight;
};

Outputs run(wpm_context* ctx, wpm_dtype dtype, const Case& k) {
  const Shape s = k.shape;
  const size_t total = k.x.size();
  Buffer x(ctx, dtype, k.x), w(ctx, dtype, k.weight), out(ctx, dtype, total), rstd(ctx, WPM_F32, size_t(s.n));
  Buffer dout(ctx, dtype, k.dout), dx(ctx, dtype, total), dw(ctx, dtype, k.dweight0);
  out.poison();
  rstd.poison();
  dx.poison();
  EXPECT_EQ(rmsnorm_fwd(ctx, x, w, out, rstd, s.n, s.c, kEps), WPM_OK) << wpm_last_error();
  EXPECT_EQ(rmsnorm_bwd(ctx, dout, x, w, rstd, dx, dw, s.n, s.c), WPM_OK) << wpm_last_error();
  return {out.download(), rstd.download(), dx.download(), dw.download()};
}


TEST(Rmsnorm, ForwardMatchesReference) {
  Context ctx(3);
  for (wpm_dtype dtype : kDtypes)
    for (Shape s : kShapes) {
      Case k = random_case(s, uint32_t(s.n * 31 + s.c), dtype);
      Outputs got = run(ctx, dtype, k);
      std::vector<double> x = to_double(k.x), rstd(size_t(s.n));
      for (int64_t row = 0; row < s.n; ++row) rstd[row] = ref_rstd(x, row, s.c);
      EXPECT_LE(wpm_test::rel_error(got.out, ref_fwd(x, to_double(k.weight), s)), wpm_test::tolerance(dtype, true))
          << wpm_test::dtype_label(dtype) << " " << s.n << "x" << s.c;
      EXPECT_LE(wpm_test::rel_error(got.rstd, rstd), wpm_test::tolerance(WPM_F32, true))
          << wpm_test::dtype_label(dtype) << " " << s.n << "x" << s.c;
    }
}

TEST(Rmsnorm, BackwardMatchesReferenceAndAccumulatesDweight) {
  Context ctx(3);
  for (wpm_dtype dtype : kDtypes)
    for (Shape s : kShapes) {
      // With c = 1, dx = r dout w eps / (x^2 + eps): pure cancellation, ill-conditioned in any precision.
      if (s.c == 1) continue;
      Case k = random_case(s, uint32_t(s.n * 17 + s.c), dtype);
      Outputs got = run(ctx, dtype, k);
      auto [dx, dw] = ref_bwd(k);
      EXPECT_LE(wpm_test::rel_error(got.dx, dx), wpm_test::tolerance(dtype, true))
          << wpm_test::dtype_label(dtype) << " " << s.n << "x" << s.c;
      EXPECT_LE(wpm_test::rel_error(got.dweight, dw), wpm_test::tolerance(dtype, true))
          << wpm_test::dtype_label(dtype) << " " << s.n << "x" << s.c;
    }
}

TEST(Rmsnorm, BackwardMatchesFiniteDifferences) {
  Context ctx;
  const Shape s{3, 5};
  Case k = random_case(s, 51, WPM_F32);
  const size_t total = k.x.size();
  // loss(x, w) = sum dout * out(x, w), with x and w packed into one vector.
  std::vector<double> packed = to_double(k.x);
  packed.insert(packed.end(), k.weight.begin(), k.weight.end());
  auto loss = [&](const std::vector<double>& p) {
    std::vector<double> x(p.begin(), p.begin() + total), w(p.begin() + total, p.end());
    std::vector<double> out = ref_fwd(x, w, s);
    double sum = 0;
    for (size_t i = 0; i < total; ++i) sum += k.dout[i] * out[i];
    return sum;
  };
  std::vector<double> fd = wpm_test::finite_difference(packed, loss);
  std::vector<double> dw_ref = to_double(k.dweight0);
  for (int64_t j = 0; j < s.c; ++j) dw_ref[j] += fd[total + j];
  Outputs got = run(ctx, WPM_F32, k);
  EXPECT_LE(wpm_test::rel_error(got.dx, std::vector<double>(fd.begin(), fd.begin() + total)), 1e-4);
  EXPECT_LE(wpm_test::rel_error(got.dweight, dw_ref), 1e-4);
}

TEST(Rmsnorm, SameInputGivesSameBits) {
  Context ctx(3);
  for (wpm_dtype dtype : kDtypes) {
    Case k = random_case({301, 517}, 61, dtype);
    Outputs a = run(ctx, dtype, k), b = run(ctx, dtype, k);
    EXPECT_EQ(0, std::memcmp(a.out.data(), b.out.data(), a.out.size() * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(a.rstd.data(), b.rstd.data(), a.rstd.size() * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(a.dx.data(), b.dx.data(), a.dx.size() * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(a.dweight.data(), b.dweight.data(), a.dweight.size() * sizeof(float)));
  }
}

TEST(Rmsnorm, RejectsBadArguments) {
  Context ctx;
  Buffer x(ctx, WPM_F32, 12), w(ctx, WPM_F32, 4), out(ctx, WPM_F32, 12), rstd(ctx, WPM_F32, 3),
      rstd16(ctx, WPM_F16, 3), w16(ctx, WPM_F16, 4), small(ctx, WPM_F32, 11), dw(ctx, WPM_F32, 4);
  expect_error(rmsnorm_fwd(ctx, x, nullptr, out, rstd, 3, 4, kEps), WPM_ERR_INVALID_ARGUMENT, "'weight'");
  expect_error(rmsnorm_fwd(ctx, x, w, out, rstd16, 3, 4, kEps), WPM_ERR_DTYPE, "'rstd'");
  expect_error(rmsnorm_fwd(ctx, x, w16, out, rstd, 3, 4, kEps), WPM_ERR_DTYPE, "'weight'");
  expect_error(rmsnorm_fwd(ctx, x, w, small, rstd, 3, 4, kEps), WPM_ERR_INVALID_ARGUMENT, "'out'");
  expect_error(rmsnorm_fwd(ctx, x, w, out, rstd, -1, 4, kEps), WPM_ERR_INVALID_ARGUMENT, "'n'");
  expect_error(rmsnorm_fwd(ctx, x, w, out, rstd, 3, 0, kEps), WPM_ERR_INVALID_ARGUMENT, "'c'");
  expect_error(rmsnorm_fwd(ctx, x, w, out, rstd, 3, 4, -1e-6f), WPM_ERR_INVALID_ARGUMENT, "'eps'");
  expect_error(rmsnorm_fwd(ctx, x, w, out, rstd, 3, 4, NAN), WPM_ERR_INVALID_ARGUMENT, "'eps'");
  expect_error(rmsnorm_bwd(ctx, x, x, w, rstd, out, nullptr, 3, 4), WPM_ERR_INVALID_ARGUMENT, "'dweight'");
  expect_error(rmsnorm_bwd(ctx, x, small, w, rstd, out, dw, 3, 4), WPM_ERR_INVALID_ARGUMENT, "'x'");
  expect_error(rmsnorm_bwd(ctx, x, x, w, rstd16, out, dw, 3, 4), WPM_ERR_DTYPE, "'rstd'");
  expect_error(rmsnorm_bwd(ctx, x, x, w, rstd, out, w16, 3, 4), WPM_ERR_DTYPE, "'dweight'");
}

}  // namespace
