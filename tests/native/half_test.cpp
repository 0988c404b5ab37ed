// fp16 / bf16 conversions against independent references: exhaustive decode of
// every f16 bit pattern by the IEEE formula, and round-to-nearest-even encode
// checked as "nearest representable, ties to even" over many floats.
#include <cmath>
#include <random>

#include "cpu/convert.h"
#include "test_util.h"

namespace {
double f16_reference(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
  double s = sign ? -1.0 : 1.0;
  if (exp == 31) return man ? NAN : s * INFINITY;
  if (exp == 0) return s * std::ldexp(man, -24);
  return s * std::ldexp(1024 + man, exp - 25);
}
}  // namespace

TEST(Half, F16DecodeMatchesIeeeFormulaForEveryPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    double ref = f16_reference(uint16_t(h));
    float got = wpm::f16_to_float(uint16_t(h));
    if (std::isnan(ref)) ASSERT_TRUE(std::isnan(got)) << h;
    else ASSERT_EQ(double(got), ref) << h;
  }
}

TEST(Half, F16EncodeRoundsToNearestEven) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> mag(-26.0f, 17.0f);
  for (int i = 0; i < 200000; ++i) {
    float x = std::ldexp(1.0f + (rng() & 0xffffff) / 16777216.0f, int(std::floor(mag(rng)))) * ((rng() & 1) ? -1 : 1);
    uint16_t h = wpm::float_to_f16(x);
    double got = f16_reference(h);
    if (std::fabs(x) >= 65520.0f) { ASSERT_TRUE(std::isinf(got)) << x; continue; }
    // No representable neighbour is closer; on a tie the mantissa is even.
    uint16_t up = uint16_t(h + 1), down = uint16_t(h - 1);
    double err = std::fabs(got - x);
    for (uint16_t n : {up, down}) {
      if (((n >> 10) & 31) == 31 || (n & 0x8000) != (h & 0x8000)) continue;
      double other = std::fabs(f16_reference(n) - x);
      ASSERT_LE(err, other) << x;
      if (err == other) ASSERT_EQ(h & 1, 0) << x;
    }
  }
}

TEST(Half, Bf16RoundsToNearestEvenAndKeepsNan) {
  EXPECT_EQ(wpm::float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(wpm::float_to_bf16(wpm::bits_to_float(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(wpm::float_to_bf16(wpm::bits_to_float(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(wpm::float_to_bf16(wpm::bits_to_float(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(wpm::bf16_to_float(wpm::float_to_bf16(NAN))));
  EXPECT_TRUE(std::isinf(wpm::bf16_to_float(wpm::float_to_bf16(INFINITY))));
}

// The array conversions of the CPU backend (F16C where the CPU has it) agree bit for bit with the
// scalar conversions, which the tests above check against the IEEE formulas.
TEST(Half, ArrayConversionsMatchScalarForEveryF16AndManyFloats) {
  std::vector<wpm::f16> all(65536);
  for (uint32_t h = 0; h < 65536; ++h) all[h].bits = uint16_t(h);
  std::vector<float> widened(all.size());
  wpm::widen(all.data(), widened.data(), int64_t(all.size()));
  for (uint32_t h = 0; h < 65536; ++h) {
    float ref = wpm::f16_to_float(uint16_t(h));
    if (std::isnan(ref)) ASSERT_TRUE(std::isnan(widened[h])) << h;
    else ASSERT_EQ(wpm::float_to_bits(widened[h]), wpm::float_to_bits(ref)) << h;
  }
  std::mt19937 rng(3);
  std::vector<float> values(100003);
  for (auto& v : values) {
    v = wpm::bits_to_float(rng());
    if (std::isnan(v)) v = 1.0f;  // NaN payloads may differ; NaN-ness is checked by the cast tests
  }
  std::vector<wpm::f16> narrowed(values.size());
  std::vector<wpm::bf16> narrowed_bf16(values.size());
  wpm::narrow(values.data(), narrowed.data(), int64_t(values.size()));
  wpm::narrow(values.data(), narrowed_bf16.data(), int64_t(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(narrowed[i].bits, wpm::float_to_f16(values[i])) << values[i];
    ASSERT_EQ(narrowed_bf16[i].bits, wpm::float_to_bf16(values[i])) << values[i];
  }
}
