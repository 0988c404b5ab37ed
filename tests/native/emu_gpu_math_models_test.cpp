// kernels/include/gpu_math_models.h: the models of exp2f, expf and erfcf that the
// emulator's hardware-numerics build puts in place of the C library's. Over sweeps
// of each function's range, against the correctly rounded result of a long double
// evaluation: every result lies within the documented bound, the bound is reached
// in both directions (a model that was merely exact would fail), results are
// reproducible, and the special values are those the PTX ISA lists for ex2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gpu_math_models.h"

namespace {

int32_t ordered_bits(float v) {
  int32_t i = 0;
  std::memcpy(&i, &v, sizeof i);
  return i < 0 ? std::numeric_limits<int32_t>::min() - i : i;  // monotonic in v
}

// Signed distance in ulps from `want` to `got` (adjacent floats are 1 apart).
int64_t ulps_between(float got, float want) { return int64_t(ordered_bits(got)) - ordered_bits(want); }

struct Sweep {
  int64_t worst = 0, at_plus_bound = 0, at_minus_bound = 0, checked = 0;
};

template <class Model, class Reference>
Sweep sweep(Model model, Reference reference, float lo, float hi, int bound, const char* name) {
  std::vector<float> xs;
  for (int i = 0; i <= 200000; ++i) xs.push_back(lo + (hi - lo) * float(i) / 200000.0f);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int i = 0; i < 100000; ++i) xs.push_back(u(rng));
  Sweep s;
  for (float x : xs) {
    const float want = float(reference((long double)x));  // correctly rounded but for astronomically rare ties
    const float got = model(x);
    EXPECT_EQ(got, model(x)) << name << "(" << x << ") is not reproducible";
    if (want == 0.0f || !std::isfinite(want)) continue;
    const int64_t d = ulps_between(got, want);
    s.worst = std::max<int64_t>(s.worst, d < 0 ? -d : d);
    s.at_plus_bound += d == bound;
    s.at_minus_bound += d == -bound;
    ++s.checked;
    if (d > bound || d < -bound) {
      ADD_FAILURE() << name << "(" << x << ") = " << got << " is " << d << " ulps from " << want;
      break;
    }
  }
  return s;
}

void expect_reaches(const Sweep& s, int bound, const char* name) {
  EXPECT_GT(s.checked, 250000) << name;
  EXPECT_EQ(s.worst, bound) << name;
  EXPECT_GT(s.at_plus_bound, s.checked / 20) << name << " rarely reaches +" << bound << " ulps";
  EXPECT_GT(s.at_minus_bound, s.checked / 20) << name << " rarely reaches -" << bound << " ulps";
}

TEST(EmuGpuMathModels, Exp2fWithinAndReachingTwoUlps) {
  auto ref = [](long double x) { return std::exp2(x); };
  // normal results, then subnormal ones (ex2.approx.f32 keeps subnormals)
  expect_reaches(sweep(gpu_math::exp2f_model, ref, -126.0f, 127.9f, 2, "exp2f"), 2, "exp2f");
  const Sweep sub = sweep(gpu_math::exp2f_model, ref, -149.0f, -126.0f, 2, "exp2f");
  EXPECT_LE(sub.worst, 2);
  // relative to float64 over the softmax range: (2 + 1/2) ulps of at most 2^-23 each
  for (float x = -30.0f; x <= 0.0f; x += 0.001f) {
    const double exact = std::exp2(double(x));
    EXPECT_LE(std::fabs(gpu_math::exp2f_model(x) - exact) / exact, 2.5 * std::ldexp(1.0, -23)) << x;
  }
}

TEST(EmuGpuMathModels, ExpfWithinAndReachingTwoUlps) {
  auto ref = [](long double x) { return std::exp(x); };
  expect_reaches(sweep(gpu_math::expf_model, ref, -87.0f, 88.5f, 2, "expf"), 2, "expf");
}

TEST(EmuGpuMathModels, ErfcfWithinAndReachingFourUlps) {
  auto ref = [](long double x) { return std::erfc(x); };
  expect_reaches(sweep(gpu_math::erfcf_model, ref, -4.0f, 9.0f, 4, "erfcf"), 4, "erfcf");
}

TEST(EmuGpuMathModels, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(gpu_math::exp2f_model(-inf), 0.0f);
  EXPECT_EQ(gpu_math::exp2f_model(inf), inf);
  EXPECT_TRUE(std::isnan(gpu_math::exp2f_model(std::nanf(""))));
  EXPECT_EQ(gpu_math::exp2f_model(0.0f), 1.0f);
  EXPECT_EQ(gpu_math::exp2f_model(-0.0f), 1.0f);
  for (int i = -149; i < 128; ++i) EXPECT_EQ(gpu_math::exp2f_model(float(i)), std::ldexp(1.0f, i)) << i;
  EXPECT_EQ(gpu_math::exp2f_model(128.0f), inf);
  EXPECT_EQ(gpu_math::exp2f_model(-151.0f), 0.0f);
  EXPECT_EQ(gpu_math::expf_model(0.0f), 1.0f);
  EXPECT_EQ(gpu_math::expf_model(-inf), 0.0f);
  EXPECT_EQ(gpu_math::erfcf_model(0.0f), 1.0f);
  EXPECT_EQ(gpu_math::erfcf_model(inf), 0.0f);
  EXPECT_EQ(gpu_math::erfcf_model(-inf), 2.0f);
}

}  // namespace
