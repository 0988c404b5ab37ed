// exp2_16 and map16 (native/src/cpu/avx512_map.h), the building blocks of the
// CPU GELU tanh loop: exp2_16 against float64 exp2 over its whole clamped
// range, at the integers where floor(y) steps, at and beyond the clamp, and
// for NaN (finite out); map16 against a scalar loop at every length around its steps.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "cpu/avx512_map.h"

#if defined(__x86_64__)

namespace {

bool has_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"); }

WPM_AVX512_TARGET std::vector<float> exp2_all(const std::vector<float>& x) {
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = _mm512_cvtss_f32(wpm::exp2_16(_mm512_set1_ps(x[i])));
  return y;
}

// The largest |y / 2^x - 1|, in float64.
double max_relative_error(const std::vector<float>& x) {
  const std::vector<float> y = exp2_all(x);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(double(y[i]) / std::exp2(double(x[i])) - 1));
  return worst;
}

// The polynomial is good to 7.5e-8 in float64; fp32 evaluation adds a few
// roundings. 2.5e-7 is what the GELU tests' 1e-6 bound leaves room for.
constexpr double kBound = 2.5e-7;

TEST(Exp2_16, RelativeErrorOverTheClampedRange) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512F/DQ here";
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> wide(-125.9f, 125.9f), unit(-1.0f, 1.0f);
  std::vector<float> x;
  for (int i = 0; i < 200000; ++i) x.push_back(wide(rng));
  for (int i = 0; i < 200000; ++i) x.push_back(unit(rng));
  EXPECT_LE(max_relative_error(x), kBound);
}

TEST(Exp2_16, RelativeErrorWhereTheFloorSteps) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512F/DQ here";
  std::vector<float> x;
  for (float k = -125.0f; k <= 125.0f; k += 1.0f)
    for (float v : {k, std::nextafter(k, -200.0f), std::nextafter(k, 200.0f)}) x.push_back(v);
  x.push_back(1e-30f);
  x.push_back(-1e-30f);
  EXPECT_LE(max_relative_error(x), kBound);
}

TEST(Exp2_16, ClampsToPlusMinus125Point9AndNanStaysFinite) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512F/DQ here";
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> y = exp2_all({126.0f, 1e30f, inf, -126.0f, -1e30f, -inf, std::nanf("")});
  const double high = std::exp2(double(125.9f)), low = std::exp2(double(-125.9f));
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(y[i] / high, 1.0, kBound) << i;
  for (size_t i = 3; i < 6; ++i) EXPECT_NEAR(y[i] / low, 1.0, kBound) << i;
  EXPECT_GE(y[5], std::numeric_limits<float>::min()) << "normal, not subnormal";
  // vrangeps returns the other operand for a quiet NaN: 2^125.9, finite;
  // GELU multiplies by its NaN input, so NaN still comes out there.
  EXPECT_NEAR(y[6] / high, 1.0, kBound);
}

struct AddTimesTwo {
  WPM_AVX512 __m512 operator()(const __m512* v) const { return _mm512_mul_ps(_mm512_add_ps(v[0], v[1]), _mm512_set1_ps(2)); }
};

WPM_AVX512_TARGET void map_add_times_two(const float* a, const float* b, float* out, int64_t n, bool stream) {
  wpm::map16<2>({a, b}, out, n, stream, AddTimesTwo{});
}

TEST(Map16, EveryLengthAndOffsetPlainAndStreaming) {
  if (!has_avx512()) GTEST_SKIP() << "no AVX-512F/DQ here";
  for (bool stream : {false, true})
    for (int64_t offset = 0; offset < 17; offset += 3)
      for (int64_t n = 0; n <= 100; ++n) {
        std::vector<float> a(n + 17), b(n + 17), out(n + 34, -7.0f);
        for (int64_t i = 0; i < n + 17; ++i) {
          a[i] = float(i) * 0.5f + 1;
          b[i] = float(3 * i % 11) - 5;
        }
        map_add_times_two(a.data() + offset, b.data() + offset, out.data() + offset, n, stream);
        for (int64_t i = 0; i < n + 34; ++i) {
          const bool inside = i >= offset && i < offset + n;
          const float want = inside ? 2 * (a[i] + b[i]) : -7.0f;
          ASSERT_EQ(out[i], want) << "stream " << stream << " offset " << offset << " n " << n << " i " << i;
        }
      }
}

}  // namespace

#endif  // __x86_64__
