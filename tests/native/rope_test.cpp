// RoPE: the in-place rotation (rotate-half layout, pairs i and i + D/2)
// against a float64 reference, with and without positions (large and negative
// ones too), Qwen's theta and a small one, f32/f16/bf16, odd shapes over
// several threads; the backward against the reference and against finite
// differences; forward then backward gives x back; the argument checks.
#include <cmath>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::rope;
using wpm_test::expect_error;

constexpr wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};

struct Shape {
  int64_t b, t, h, d;
  size_t size() const { return size_t(b * t * h * d); }
};
constexpr Shape kShapes[] = {{1, 1, 1, 2}, {2, 5, 3, 8}, {3, 37, 2, 64}, {2, 41, 4, 128}};

// x rotated by sign * angle in float64, angle_i = pos * theta^(-2i/D) from the definition.
std::vector<double> ref_rope(const std::vector<double>& x, const std::vector<int32_t>& positions, Shape s,
                             double theta, double sign) {
  std::vector<double> out(x.size());
  const int64_t half = s.d / 2;
  for (int64_t bt = 0; bt < s.b * s.t; ++bt) {
    const double pos = positions.empty() ? double(bt % s.t) : double(positions[bt]);
    for (int64_t head = 0; head < s.h; ++head) {
      const int64_t base = (bt * s.h + head) * s.d;
      for (int64_t i = 0; i < half; ++i) {
        const double angle = sign * pos * std::pow(theta, -2.0 * double(i) / double(s.d));
        const double x1 = x[base + i], x2 = x[base + i + half];
        out[base + i] = x1 * std::cos(angle) - x2 * std::sin(angle);
        out[base + i + half] = x2 * std::cos(angle) + x1 * std::sin(angle);
      }
    }
  }
  return out;
}

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

std::vector<int32_t> random_positions(Shape s, uint32_t seed) {
  std::vector<float> r = wpm_test::random_values(size_t(s.b * s.t), seed, -100, 40000);
  return std::vector<int32_t>(r.begin(), r.end());
}

// Runs the forward (sign +1) or backward (sign -1) in place on a copy of x.
std::vector<float> run(wpm_context* ctx, wpm_dtype dtype, const std::vector<float>& x,
                       const std::vector<int32_t>& positions, Shape s, float theta, int sign) {
  Buffer bx(ctx, dtype, x), pos(ctx, WPM_I32, positions.empty() ? 1 : positions.size());
  if (!positions.empty()) pos.upload_i32(positions);
  const wpm_buffer* p = positions.empty() ? nullptr : pos.get();
  wpm_status status = sign > 0 ? rope(ctx, false, bx, p, s.b, s.t, s.h, s.d, theta)
                               : rope(ctx, true, bx, p, s.b, s.t, s.h, s.d, theta);
  EXPECT_EQ(status, WPM_OK) << wpm_last_error();
  return bx.download();
}


TEST(Rope, ForwardAndBackwardMatchReference) {
  Context ctx(3);
  for (wpm_dtype dtype : kDtypes)
    for (Shape s : kShapes)
      for (float theta : {1e6f, 10000.0f})
        for (bool with_positions : {false, true})
          for (int sign : {1, -1}) {
            std::vector<float> x = wpm_test::random_values(s.size(), uint32_t(s.size() + s.t), -2, 2, dtype);
            std::vector<int32_t> positions;
            if (with_positions) positions = random_positions(s, uint32_t(s.t));
            EXPECT_LE(wpm_test::rel_error(run(ctx, dtype, x, positions, s, theta, sign),
                                          ref_rope(to_double(x), positions, s, theta, sign)),
                      wpm_test::tolerance(dtype, false))
                << wpm_test::dtype_label(dtype) << " d " << s.d << " theta " << theta << " positions "
                << with_positions << " sign " << sign;
          }
}

TEST(Rope, BackwardMatchesFiniteDifferences) {
  Context ctx;
  const Shape s{1, 3, 2, 6};
  const float theta = 100.0f;
  std::vector<float> x = wpm_test::random_values(s.size(), 71, -2, 2);
  std::vector<float> dout = wpm_test::random_values(s.size(), 72, -1, 1);
  std::vector<int32_t> positions = {5, 0, 2};
  auto loss = [&](const std::vector<double>& xd) {
    std::vector<double> out = ref_rope(xd, positions, s, theta, 1);
    double sum = 0;
    for (size_t i = 0; i < out.size(); ++i) sum += dout[i] * out[i];
    return sum;
  };
  std::vector<double> fd = wpm_test::finite_difference(to_double(x), loss);
  EXPECT_LE(wpm_test::rel_error(run(ctx, WPM_F32, dout, positions, s, theta, -1), fd), 1e-5);
}

TEST(Rope, BackwardUndoesForward) {
  Context ctx;
  const Shape s{2, 19, 3, 64};
  std::vector<float> x = wpm_test::random_values(s.size(), 81, -2, 2);
  std::vector<float> there = run(ctx, WPM_F32, x, {}, s, 1e6f, 1);
  EXPECT_LE(wpm_test::rel_error(run(ctx, WPM_F32, there, {}, s, 1e6f, -1), to_double(x)), 1e-6);
}

TEST(Rope, RejectsBadArguments) {
  Context ctx;
  Buffer x(ctx, WPM_F32, 2 * 3 * 4 * 8), small(ctx, WPM_F32, 10), pos(ctx, WPM_I32, 6), pos_f(ctx, WPM_F32, 6),
      pos_small(ctx, WPM_I32, 5);
  expect_error(rope(ctx, false, nullptr, nullptr, 2, 3, 4, 8, 1e6f), WPM_ERR_INVALID_ARGUMENT, "'x'");
  expect_error(rope(ctx, false, x, nullptr, 2, 3, 4, 7, 1e6f), WPM_ERR_INVALID_ARGUMENT, "'d'");
  expect_error(rope(ctx, false, x, nullptr, 2, 3, 4, 0, 1e6f), WPM_ERR_INVALID_ARGUMENT, "'d'");
  expect_error(rope(ctx, false, x, nullptr, -2, 3, 4, 8, 1e6f), WPM_ERR_INVALID_ARGUMENT, "'b'");
  expect_error(rope(ctx, false, x, nullptr, 2, 3, 4, 8, 0.0f), WPM_ERR_INVALID_ARGUMENT, "'theta'");
  expect_error(rope(ctx, false, x, nullptr, 2, 3, 4, 8, INFINITY), WPM_ERR_INVALID_ARGUMENT, "'theta'");
  expect_error(rope(ctx, false, small, nullptr, 2, 3, 4, 8, 1e6f), WPM_ERR_INVALID_ARGUMENT, "'x'");
  expect_error(rope(ctx, false, x, pos_f, 2, 3, 4, 8, 1e6f), WPM_ERR_DTYPE, "'positions'");
  expect_error(rope(ctx, false, x, pos_small, 2, 3, 4, 8, 1e6f), WPM_ERR_INVALID_ARGUMENT, "'positions'");
  expect_error(rope(ctx, true, nullptr, pos, 2, 3, 4, 8, 1e6f), WPM_ERR_INVALID_ARGUMENT, "'dx'");
  expect_error(rope(ctx, true, x, pos, 2, 3, 4, 9, 1e6f), WPM_ERR_INVALID_ARGUMENT, "'d'");
  // No tokens, but a row of h * d past int64: refused, not multiplied (a fuzz finding under UBSan).
  const int64_t huge = int64_t(1) << 61;
  expect_error(rope(ctx, false, x, nullptr, 0, 3, huge, 8, 1e6f), WPM_ERR_INVALID_ARGUMENT, "h * d");
  expect_error(rope(ctx, false, x, nullptr, 2, 0, huge, 8, 1e6f), WPM_ERR_INVALID_ARGUMENT, "h * d");
  // No tokens and a huge (legal) d: nothing to rotate, and no table of d / 2 frequencies is made (a fuzz finding).
  WPM_ASSERT_OK(rope(ctx, true, x, nullptr, 0, 3, 1, int64_t(1) << 50, 1e6f));
}

}  // namespace
