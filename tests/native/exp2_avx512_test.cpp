// exp2_avx512 (native/src/cpu/exp2_avx512.h), the softmax exponential of the
// fused CPU attention forward, against float64 exp2 over the whole range a
// softmax feeds it (x = score - running max <= 0), and at its edges.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "cpu/exp2_avx512.h"

#if defined(__x86_64__)

namespace {

WPM_AVX512 void exp2_all(const std::vector<float>& x, std::vector<float>& y) {
  y.resize(x.size());
  size_t i = 0;
  for (; i + 16 <= x.size(); i += 16) _mm512_storeu_ps(&y[i], wpm::exp2_avx512(_mm512_loadu_ps(&x[i])));
  for (; i < x.size(); ++i) y[i] = _mm512_cvtss_f32(wpm::exp2_avx512(_mm512_set1_ps(x[i])));
}

bool has_avx512() { return __builtin_cpu_supports("avx512f"); }

// The largest |y / exp2(x) - 1| over x, in float64.
double max_relative_error(const std::vector<float>& x) {
  std::vector<float> y;
  exp2_all(x, y);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double want = std::exp2(double(x[i]));
    EXPECT_TRUE(std::isfinite(y[i])) << "x = " << x[i];
    worst = std::max(worst, std::abs(double(y[i]) / want - 1.0));
  }
  return worst;
}

// float's epsilon is 2^-23: one ulp of values in [1, 2) relative to themselves, at most.
constexpr double kUlp = std::numeric_limits<float>::epsilon();

TEST(Exp2Avx512, WithinTwoUlpOverTheSoftmaxRange) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 here";
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> wide(-126.0f, 0.0f), near_zero(-4.0f, 0.0f);
  std::vector<float> x;
  for (int i = 0; i < 200000; ++i) x.push_back(wide(rng));
  for (int i = 0; i < 200000; ++i) x.push_back(near_zero(rng));  // where most softmax weights live
  EXPECT_LE(max_relative_error(x), 2 * kUlp);
}

// Integers, halves (where round-to-nearest switches n) and their float neighbours.
TEST(Exp2Avx512, WithinTwoUlpAtRoundingEdges) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 here";
  std::vector<float> x;
  for (float k = -126.0f; k <= 0.0f; k += 0.5f)
    for (float v : {k, std::nextafter(k, -200.0f), std::nextafter(k, 1.0f)})
      if (v >= -126.0f && v <= 0.0f) x.push_back(v);
  EXPECT_LE(max_relative_error(x), 2 * kUlp);
}

TEST(Exp2Avx512, ExactAtZeroAndNeverSubnormalBelowTheRange) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512 here";
  std::vector<float> y;
  exp2_all({0.0f, -1.0f, -126.0f, -126.5f, -300.0f, -std::numeric_limits<float>::infinity()}, y);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], 0.5f);
  for (size_t i = 2; i < y.size(); ++i) EXPECT_EQ(y[i], std::numeric_limits<float>::min()) << i;  // 2^-126
}

}  // namespace

#endif  // __x86_64__
