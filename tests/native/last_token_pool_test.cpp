// Last-token pooling: forward and backward against a float64 reference, both
// paddings, every float dtype, lengths 1 and T, gradients vs finite
// differences, and the argument checks (lengths out of range included).
#include <string>
#include <tuple>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;
using wpm_test::last_token_pool;

struct Shape {
  int64_t b, t, c;
};

// Lengths covering 1 and T, the rest random in between.
std::vector<int32_t> make_lengths(int64_t b, int64_t t, uint32_t seed) {
  std::vector<float> r = wpm_test::random_values(size_t(b), seed, 1.0f, float(t) + 0.999f);
  std::vector<int32_t> lengths(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i) lengths[size_t(i)] = int32_t(r[size_t(i)]);
  lengths[0] = 1;
  if (b > 1) lengths[1] = int32_t(t);
  return lengths;
}

int64_t ref_scoring_token(int32_t length, int64_t t, wpm_padding padding) {
  return padding == WPM_PAD_RIGHT ? length - 1 : t - 1;
}

std::vector<double> ref_pool(const std::vector<double>& hidden, const std::vector<int32_t>& lengths, Shape s,
                             wpm_padding padding) {
  std::vector<double> out(size_t(s.b * s.c));
  for (int64_t i = 0; i < s.b; ++i) {
    int64_t token = ref_scoring_token(lengths[size_t(i)], s.t, padding);
    for (int64_t j = 0; j < s.c; ++j) out[size_t(i * s.c + j)] = hidden[size_t((i * s.t + token) * s.c + j)];
  }
  return out;
}

std::vector<double> ref_pool_bwd(const std::vector<double>& dout, const std::vector<int32_t>& lengths, Shape s,
                                 wpm_padding padding) {
  std::vector<double> dhidden(size_t(s.b * s.t * s.c), 0.0);
  for (int64_t i = 0; i < s.b; ++i) {
    int64_t token = ref_scoring_token(lengths[size_t(i)], s.t, padding);
    for (int64_t j = 0; j < s.c; ++j) dhidden[size_t((i * s.t + token) * s.c + j)] = dout[size_t(i * s.c + j)];
  }
  return dhidden;
}

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }


class LastTokenPool : public ::testing::TestWithParam<std::tuple<wpm_dtype, wpm_padding>> {
 protected:
  wpm_dtype dtype() const { return std::get<0>(GetParam()); }
  wpm_padding padding() const { return std::get<1>(GetParam()); }
};

TEST_P(LastTokenPool, ForwardPicksEachSequencesScoringRow) {
  Context ctx;
  const Shape s{5, 7, 37};
  std::vector<float> hidden = wpm_test::random_values(size_t(s.b * s.t * s.c), 11, -2, 2, dtype());
  std::vector<int32_t> lengths = make_lengths(s.b, s.t, 12);
  Buffer hidden_buf(ctx, dtype(), hidden), lengths_buf(ctx, WPM_I32, size_t(s.b)), out(ctx, dtype(), size_t(s.b * s.c));
  lengths_buf.upload_i32(lengths);
  out.poison();
  WPM_ASSERT_OK(last_token_pool(ctx, false, hidden_buf, lengths_buf, out, s.b, s.t, s.c, padding()));
  std::vector<double> ref = ref_pool(to_double(hidden), lengths, s, padding());
  EXPECT_LE(wpm_test::rel_error(out.download(), ref), wpm_test::tolerance(dtype(), false));
  EXPECT_EQ(to_double(out.download()), ref) << "pooling is a copy: it must be exact";
}

TEST_P(LastTokenPool, BackwardWritesDoutAtScoringRowsAndZerosElsewhere) {
  Context ctx;
  const Shape s{6, 9, 21};
  std::vector<float> dout = wpm_test::random_values(size_t(s.b * s.c), 21, -2, 2, dtype());
  std::vector<int32_t> lengths = make_lengths(s.b, s.t, 22);
  Buffer dout_buf(ctx, dtype(), dout), lengths_buf(ctx, WPM_I32, size_t(s.b));
  Buffer dhidden(ctx, dtype(), size_t(s.b * s.t * s.c));
  lengths_buf.upload_i32(lengths);
  dhidden.poison();
  WPM_ASSERT_OK(last_token_pool(ctx, true, dout_buf, lengths_buf, dhidden, s.b, s.t, s.c, padding()));
  std::vector<double> ref = ref_pool_bwd(to_double(dout), lengths, s, padding());
  EXPECT_LE(wpm_test::rel_error(dhidden.download(), ref), wpm_test::tolerance(dtype(), false));
  EXPECT_EQ(to_double(dhidden.download()), ref);
}

TEST_P(LastTokenPool, BackwardOfAGradientBeyondTheCachesIsExactToo) {
  // Over 8 MiB in every dtype, so the CPU backend writes it with streaming
  // stores; C odd, so f16/bf16 rows start off any 16-byte boundary.
  Context ctx;
  const Shape s{5, 811, 1031};
  std::vector<float> dout = wpm_test::random_values(size_t(s.b * s.c), 51, -2, 2, dtype());
  std::vector<int32_t> lengths = make_lengths(s.b, s.t, 52);
  Buffer dout_buf(ctx, dtype(), dout), lengths_buf(ctx, WPM_I32, size_t(s.b));
  Buffer dhidden(ctx, dtype(), size_t(s.b * s.t * s.c));
  lengths_buf.upload_i32(lengths);
  dhidden.poison();
  WPM_ASSERT_OK(last_token_pool(ctx, true, dout_buf, lengths_buf, dhidden, s.b, s.t, s.c, padding()));
  EXPECT_EQ(to_double(dhidden.download()), ref_pool_bwd(to_double(dout), lengths, s, padding()));
}

INSTANTIATE_TEST_SUITE_P(AllDtypesBothPaddings, LastTokenPool,
                         ::testing::Combine(::testing::Values(WPM_F32, WPM_F16, WPM_BF16),
                                            ::testing::Values(WPM_PAD_RIGHT, WPM_PAD_LEFT)),
                         [](const auto& info) {
                           return std::string(wpm_test::dtype_label(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) == WPM_PAD_RIGHT ? "_right" : "_left");
                         });

TEST(LastTokenPoolGradient, MatchesFiniteDifferencesOfTheReference) {
  Context ctx;
  const Shape s{3, 4, 5};
  for (wpm_padding padding : {WPM_PAD_RIGHT, WPM_PAD_LEFT}) {
    std::vector<float> hidden = wpm_test::random_values(size_t(s.b * s.t * s.c), 31);
    std::vector<float> dout = wpm_test::random_values(size_t(s.b * s.c), 32);
    std::vector<int32_t> lengths = {2, 4, 1};
    // loss(hidden) = sum(dout * pool(hidden)), so dloss/dhidden is the pooling backward of dout.
    auto loss = [&](const std::vector<double>& h) {
      std::vector<double> pooled = ref_pool(h, lengths, s, padding);
      double sum = 0;
      for (size_t i = 0; i < pooled.size(); ++i) sum += double(dout[i]) * pooled[i];
      return sum;
    };
    std::vector<double> numeric = wpm_test::finite_difference(to_double(hidden), loss);
    Buffer dout_buf(ctx, WPM_F32, dout), lengths_buf(ctx, WPM_I32, size_t(s.b));
    Buffer dhidden(ctx, WPM_F32, size_t(s.b * s.t * s.c));
    lengths_buf.upload_i32(lengths);
    dhidden.poison();
    WPM_ASSERT_OK(last_token_pool(ctx, true, dout_buf, lengths_buf, dhidden, s.b, s.t, s.c, padding));
    EXPECT_LE(wpm_test::rel_error(dhidden.download(), numeric), wpm_test::tolerance(WPM_F32, false));
  }
}

TEST(LastTokenPoolThreads, WideRowsSplitOverThreadsMatchTheReference) {
  Context ctx(4);
  const Shape s{3, 5, 16411};  // one row per chunk in the backward
  std::vector<float> hidden = wpm_test::random_values(size_t(s.b * s.t * s.c), 41);
  std::vector<int32_t> lengths = {5, 1, 3};
  Buffer hidden_buf(ctx, WPM_F32, hidden), lengths_buf(ctx, WPM_I32, size_t(s.b));
  Buffer out(ctx, WPM_F32, size_t(s.b * s.c)), dhidden(ctx, WPM_F32, size_t(s.b * s.t * s.c));
  lengths_buf.upload_i32(lengths);
  out.poison();
  dhidden.poison();
  WPM_ASSERT_OK(last_token_pool(ctx, false, hidden_buf, lengths_buf, out, s.b, s.t, s.c, WPM_PAD_RIGHT));
  std::vector<double> pooled = ref_pool(to_double(hidden), lengths, s, WPM_PAD_RIGHT);
  EXPECT_LE(wpm_test::rel_error(out.download(), pooled), wpm_test::tolerance(WPM_F32, false));
  WPM_ASSERT_OK(last_token_pool(ctx, true, out, lengths_buf, dhidden, s.b, s.t, s.c, WPM_PAD_RIGHT));
  EXPECT_LE(wpm_test::rel_error(dhidden.download(), ref_pool_bwd(pooled, lengths, s, WPM_PAD_RIGHT)),
            wpm_test::tolerance(WPM_F32, false));
}

class LastTokenPoolArgs : public ::testing::Test {
 protected:
  static constexpr int64_t b = 3, t = 4, c = 5;
  Context ctx;
  Buffer hidden{ctx, WPM_F32, wpm_test::random_values(size_t(b * t * c), 51)};
  Buffer lengths{ctx, WPM_I32, size_t(b)};
  Buffer out{ctx, WPM_F32, size_t(b * c)};
  Buffer dhidden{ctx, WPM_F32, size_t(b * t * c)};
};

TEST_F(LastTokenPoolArgs, LengthOutOfRangeIsReportedWithIndexAndValueAndNothingIsWritten) {
  for (int32_t bad : {0, -2, int32_t(t) + 1}) {
    for (wpm_padding padding : {WPM_PAD_RIGHT, WPM_PAD_LEFT}) {
      lengths.upload_i32({1, 4, bad});
      out.poison();
      dhidden.poison();
      std::string expected = "'lengths[2]' is " + std::to_string(bad);
      expect_error(last_token_pool(ctx, false, hidden, lengths, out, b, t, c, padding),
                   WPM_ERR_INVALID_ARGUMENT, expected);
      expect_error(last_token_pool(ctx, true, out, lengths, dhidden, b, t, c, padding),
                   WPM_ERR_INVALID_ARGUMENT, expected);
      for (float v : out.download()) EXPECT_TRUE(std::isnan(v));
      for (float v : dhidden.download()) EXPECT_TRUE(std::isnan(v));
    }
  }
}

TEST_F(LastTokenPoolArgs, NullBuffersAreNamed) {
  lengths.upload_i32({1, 2, 3});
  expect_error(last_token_pool(ctx, false, nullptr, lengths, out, b, t, c, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'hidden'");
  expect_error(last_token_pool(ctx, false, hidden, nullptr, out, b, t, c, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'lengths'");
  expect_error(last_token_pool(ctx, true, out, lengths, nullptr, b, t, c, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'dhidden'");
  expect_error(last_token_pool(nullptr, false, hidden, lengths, out, b, t, c, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'context'");
}

TEST_F(LastTokenPoolArgs, WrongDtypesAreNamed) {
  Buffer f32_lengths(ctx, WPM_F32, size_t(b)), f16_out(ctx, WPM_F16, size_t(b * c));
  expect_error(last_token_pool(ctx, false, hidden, f32_lengths, out, b, t, c, WPM_PAD_RIGHT), WPM_ERR_DTYPE,
               "'lengths'");
  expect_error(last_token_pool(ctx, false, hidden, lengths, f16_out, b, t, c, WPM_PAD_RIGHT), WPM_ERR_DTYPE,
               "'out'");
  expect_error(last_token_pool(ctx, false, lengths, lengths, out, b, t, c, WPM_PAD_RIGHT), WPM_ERR_DTYPE,
               "'hidden'");
}

TEST_F(LastTokenPoolArgs, TooSmallBuffersAndBadSizesAreNamed) {
  lengths.upload_i32({1, 2, 3});
  expect_error(last_token_pool(ctx, false, hidden, lengths, out, b, t + 1, c, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'hidden'");
  expect_error(last_token_pool(ctx, false, hidden, lengths, out, b, t, c + 1, WPM_PAD_LEFT),
               WPM_ERR_INVALID_ARGUMENT, "'hidden'");
  expect_error(last_token_pool(ctx, true, out, lengths, dhidden, b + 1, t, c, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'dout'");
  expect_error(last_token_pool(ctx, false, hidden, lengths, out, -1, t, c, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'b'");
  expect_error(last_token_pool(ctx, false, hidden, lengths, out, b, 0, c, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'t'");
  expect_error(last_token_pool(ctx, true, out, lengths, dhidden, b, t, -5, WPM_PAD_RIGHT),
               WPM_ERR_INVALID_ARGUMENT, "'c'");
  expect_error(last_token_pool(ctx, false, hidden, lengths, out, b, t, c, static_cast<wpm_padding>(2)),
               WPM_ERR_INVALID_ARGUMENT, "'padding'");
}

}  // namespace
