// Casts: every (src, dst) pair of f32/f16/bf16 must give exactly the value a
// round-to-nearest-even reference gives (written here from the formats'
// definitions, not with half.h): ties, subnormals, overflow to inf, NaN, at odd
// sizes over several threads; same-dtype casts and overlapping views copy
// exactly; the argument checks.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;

constexpr wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};

// The value of a 16-bit pattern: 1 sign bit, exp_bits, the rest mantissa (IEEE layout).
double decode16(uint16_t bits, int exp_bits) {
  const int man_bits = 15 - exp_bits, bias = (1 << (exp_bits - 1)) - 1;
  const int exp = (bits >> man_bits) & ((1 << exp_bits) - 1);
  const int man = bits & ((1 << man_bits) - 1);
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  if (exp == (1 << exp_bits) - 1)
    return man ? std::numeric_limits<double>::quiet_NaN() : sign * std::numeric_limits<double>::infinity();
  if (exp == 0) return sign * std::ldexp(double(man), 1 - bias - man_bits);
  return sign * std::ldexp(double(man + (1 << man_bits)), exp - bias - man_bits);
}

// A 16-bit format's finite values in increasing order, each with its pattern.
struct Format {
  std::vector<double> values;
  std::vector<uint16_t> patterns;
  explicit Format(int exp_bits) {
    std::vector<std::pair<double, uint16_t>> all;
    for (uint32_t b = 0; b < 0x10000; ++b) {
      double v = decode16(uint16_t(b), exp_bits);
      if (std::isfinite(v) && !(v == 0 && (b & 0x8000))) all.push_back({v, uint16_t(b)});
    }
    std::sort(all.begin(), all.end());
    for (auto& [v, b] : all) {
      values.push_back(v);
      patterns.push_back(b);
    }
  }

  // Round to nearest, ties to the even pattern; beyond the largest value by half
  // an ulp or more: infinity (IEEE overflow under round to nearest).
  double round(double v) const {
    if (std::isnan(v) || std::isinf(v) || v == 0) return v;
    const double a = std::fabs(v), top = values.back(), top_ulp = top - values[values.size() - 2];
    if (a >= top + top_ulp / 2) return std::copysign(std::numeric_limits<double>::infinity(), v);
    size_t hi = size_t(std::lower_bound(values.begin(), values.end(), a) - values.begin());
    if (hi == values.size()) return std::copysign(top, v);
    if (values[hi] == a) return v;
    const size_t lo = hi - 1;
    const double dlo = a - values[lo], dhi = values[hi] - a;
    const size_t pick = dlo < dhi ? lo : dhi < dlo ? hi : (patterns[lo] % 2 == 0 ? lo : hi);
    return std::copysign(values[pick], v);
  }
};

const Format& format(wpm_dtype dtype) {
  static const Format f16(5), bf16(8);
  return dtype == WPM_F16 ? f16 : bf16;
}

double ref_cast(double v, wpm_dtype dst) { return dst == WPM_F32 ? v : format(dst).round(v); }

// Values over the whole range: random magnitudes from 2^-30 to 2^20, both signs, plus
// ties, subnormals, the overflow edge and specials; each held exactly by src.
std::vector<float> test_values(size_t n, wpm_dtype src, uint32_t seed) {
  std::vector<float> e = wpm_test::random_values(n, seed, -30, 20), m = wpm_test::random_values(n, seed + 1, -2, 2);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::ldexp(m[i], int(e[i]));
  const float specials[] = {0.0f, -0.0f, 1.0f, 1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 1.0f + 1.0f / 256,
                            1.0f + 3.0f / 256, 65504.0f, 65519.0f, 65520.0f, -70000.0f, 3e38f, 1e-7f, 3e-8f,
                            2.9802322e-8f, 6e-5f, -5.9604645e-8f, 1e-40f,
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  for (size_t i = 0; i < n && i < std::size(specials); ++i) v[i] = specials[i];
  for (float& x : v) x = float(ref_cast(x, src));
  return v;
}


TEST(Cast, EveryPairRoundsToNearestEven) {
  Context ctx(3);
  for (wpm_dtype src : kDtypes)
    for (wpm_dtype dst : kDtypes)
      for (size_t n : {size_t(1), size_t(7), size_t(100003)}) {
        std::vector<float> values = test_values(n, src, uint32_t(n + 3 * src + dst));
        Buffer bs(ctx, src, values), bd(ctx, dst, n);
        bd.poison();
        WPM_ASSERT_OK(wpm_cast(ctx, bs, bd, int64_t(n)));
        std::vector<float> got = bd.download();
        size_t wrong = 0;
        for (size_t i = 0; i < n; ++i) {
          const double want = ref_cast(values[i], dst);
          const bool same = got[i] == want && std::signbit(got[i]) == std::signbit(want);
          if (!same && wrong++ < 5)
            ADD_FAILURE() << wpm_test::dtype_label(src) << "->" << wpm_test::dtype_label(dst) << " " << values[i]
                          << " gave " << got[i] << ", want " << want;
        }
        EXPECT_EQ(wrong, 0u);
      }
}

TEST(Cast, NanStaysNan) {
  Context ctx;
  for (wpm_dtype src : kDtypes)
    for (wpm_dtype dst : kDtypes) {
      Buffer bs(ctx, src, std::vector<float>{std::numeric_limits<float>::quiet_NaN(), 1.0f}), bd(ctx, dst, 2);
      WPM_ASSERT_OK(wpm_cast(ctx, bs, bd, 2));
      std::vector<float> got = bd.download();
      EXPECT_TRUE(std::isnan(got[0])) << wpm_test::dtype_label(src) << "->" << wpm_test::dtype_label(dst);
      EXPECT_EQ(got[1], 1.0f);
    }
}

TEST(Cast, OnlyTheFirstNElementsAreWritten) {
  Context ctx;
  std::vector<float> values = test_values(100, WPM_F32, 7);
  Buffer bs(ctx, WPM_F32, values), bd(ctx, WPM_BF16, 100);
  bd.poison();
  WPM_ASSERT_OK(wpm_cast(ctx, bs, bd, 60));
  std::vector<float> got = bd.download();
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(std::isnan(got[i]), i >= 60) << i;
}

TEST(Cast, OverlappingViewsOfOneBufferCopyLikeMemmove) {
  Context ctx;
  std::vector<float> values = wpm_test::random_values(200000, 8);
  Buffer parent(ctx, WPM_F32, values);
  wpm_buffer *src = nullptr, *dst = nullptr;
  WPM_ASSERT_OK(wpm_buffer_view(parent, 0, 150000, &src));
  WPM_ASSERT_OK(wpm_buffer_view(parent, 50000, 150000, &dst));
  WPM_ASSERT_OK(wpm_cast(ctx, src, dst, 150000));
  std::vector<float> want = values;
  std::memmove(want.data() + 50000, values.data(), 150000 * sizeof(float));
  EXPECT_EQ(parent.download(), want);
  wpm_buffer_free(src);
  wpm_buffer_free(dst);
}

TEST(Cast, RejectsBadArguments) {
  Context ctx;
  Buffer a(ctx, WPM_F32, 8), b(ctx, WPM_BF16, 8), small(ctx, WPM_F16, 7), ids(ctx, WPM_I32, 8);
  expect_error(wpm_cast(ctx, nullptr, b, 8), WPM_ERR_INVALID_ARGUMENT, "'src'");
  expect_error(wpm_cast(ctx, a, nullptr, 8), WPM_ERR_INVALID_ARGUMENT, "'dst'");
  expect_error(wpm_cast(ctx, a, ids, 8), WPM_ERR_DTYPE, "'dst'");
  expect_error(wpm_cast(ctx, ids, a, 8), WPM_ERR_DTYPE, "'src'");
  expect_error(wpm_cast(ctx, a, small, 8), WPM_ERR_INVALID_ARGUMENT, "'dst'");
  expect_error(wpm_cast(ctx, a, b, -1), WPM_ERR_INVALID_ARGUMENT, "n");
  expect_error(wpm_cast(nullptr, a, b, 8), WPM_ERR_INVALID_ARGUMENT, "'context'");
}

}  // namespace
