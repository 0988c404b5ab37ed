// Buffers: allocation, views, host copies, fills, counter-based random fills.
#include <cmath>
#include <cstring>
#include <string>

#include "random.h"
#include "test_util.h"

using namespace wpm_test;

namespace {
bool message_names(const char* what) { return std::string(wpm_last_error()).find(what) != std::string::npos; }
}  // namespace

TEST(Memory, RoundTripEveryDtype) {
  Context ctx;
  for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16}) {
    std::vector<float> values = random_values(1001, 7, -3, 3, dtype);
    Buffer buf(ctx, dtype, values);
    EXPECT_EQ(buf.download(), values) << dtype_label(dtype);
  }
  std::vector<int32_t> ids = {3, -1, 7, 2147483647};
  Buffer ibuf(ctx, WPM_I32, ids.size());
  ibuf.upload_i32(ids);
  std::vector<int32_t> back(ids.size());
  WPM_ASSERT_OK(wpm_buffer_read(ibuf, 0, back.data(), back.size()));
  EXPECT_EQ(back, ids);
}

TEST(Memory, InfoReportsDtypeAndCount) {
  Context ctx;
  Buffer buf(ctx, WPM_BF16, 37);
  wpm_dtype dtype;
  size_t count;
  WPM_ASSERT_OK(wpm_buffer_info(buf, &dtype, &count));
  EXPECT_EQ(dtype, WPM_BF16);
  EXPECT_EQ(count, 37u);
  EXPECT_EQ(wpm_dtype_size(WPM_F32), 4u);
  EXPECT_EQ(wpm_dtype_size(WPM_F16), 2u);
  EXPECT_EQ(wpm_dtype_size(static_cast<wpm_dtype>(9)), 0u);
}

TEST(Memory, ViewSharesStorageAndOutlivesParent) {
  Context ctx;
  std::vector<float> values = random_values(100, 3);
  wpm_buffer* parent = nullptr;
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 100, &parent));
  WPM_ASSERT_OK(wpm_buffer_write(parent, 0, values.data(), 100));
  wpm_buffer* view = nullptr;
  WPM_ASSERT_OK(wpm_buffer_view(parent, 10, 20, &view));
  WPM_ASSERT_OK(wpm_buffer_free(parent));
  std::vector<float> got(20);
  WPM_ASSERT_OK(wpm_buffer_read(view, 0, got.data(), 20));
  EXPECT_EQ(got, std::vector<float>(values.begin() + 10, values.begin() + 30));
  float one = 1.0f;
  WPM_ASSERT_OK(wpm_buffer_write(view, 19, &one, 1));
  WPM_ASSERT_OK(wpm_buffer_read(view, 19, got.data(), 1));
  EXPECT_EQ(got[0], 1.0f);
  WPM_ASSERT_OK(wpm_buffer_free(view));
}

TEST(Memory, ViewOutOfRangeIsRejected) {
  Context ctx;
  Buffer buf(ctx, WPM_F32, 10);
  wpm_buffer* view = nullptr;
  EXPECT_EQ(wpm_buffer_view(buf, 5, 6, &view), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("exceeds")) << wpm_last_error();
  EXPECT_EQ(wpm_buffer_view(buf, SIZE_MAX, 2, &view), WPM_ERR_INVALID_ARGUMENT);
}

TEST(Memory, CopyBetweenBuffers) {
  Context ctx;
  std::vector<float> values = random_values(64, 5);
  Buffer src(ctx, WPM_F32, values), dst(ctx, WPM_F32, 64);
  WPM_ASSERT_OK(wpm_buffer_copy(dst, src));
  EXPECT_EQ(dst.download(), values);
}

TEST(Memory, CopyRejectsMismatches) {
  Context ctx, other;
  Buffer a(ctx, WPM_F32, 8), b(ctx, WPM_F16, 8), c(ctx, WPM_F32, 9), d(other, WPM_F32, 8);
  EXPECT_EQ(wpm_buffer_copy(a, b), WPM_ERR_DTYPE);
  EXPECT_TRUE(message_names("'src'")) << wpm_last_error();
  EXPECT_EQ(wpm_buffer_copy(a, c), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wpm_buffer_copy(a, d), WPM_ERR_WRONG_CONTEXT);
}

TEST(Memory, FillEveryDtype) {
  Context ctx;
  for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16}) {
    Buffer buf(ctx, dtype, 70000);
    buf.poison();
    WPM_ASSERT_OK(wpm_buffer_fill(buf, -1.5));
    for (float v : buf.download()) ASSERT_EQ(v, -1.5f) << dtype_label(dtype);
  }
  Buffer ibuf(ctx, WPM_I32, 5);
  WPM_ASSERT_OK(wpm_buffer_fill(ibuf, 42));
  std::vector<int32_t> back(5);
  WPM_ASSERT_OK(wpm_buffer_read(ibuf, 0, back.data(), 5));
  EXPECT_EQ(back, std::vector<int32_t>(5, 42));
  EXPECT_EQ(wpm_buffer_fill(ibuf, 0.5), WPM_ERR_INVALID_ARGUMENT);
}

TEST(Memory, UniformFillIsSeededInRangeAndThreadIndependent) {
  Context one(1), two(2);
  Buffer a(one, WPM_F32, 200000), b(two, WPM_F32, 200000), c(one, WPM_F32, 200000);
  WPM_ASSERT_OK(wpm_fill_uniform(a, 1234, -0.5f, 2.0f));
  WPM_ASSERT_OK(wpm_fill_uniform(b, 1234, -0.5f, 2.0f));
  WPM_ASSERT_OK(wpm_fill_uniform(c, 1235, -0.5f, 2.0f));
  std::vector<float> va = a.download(), vb = b.download(), vc = c.download();
  EXPECT_EQ(0, std::memcmp(va.data(), vb.data(), va.size() * 4));
  EXPECT_NE(va, vc);
  double sum = 0;
  for (float v : va) {
    ASSERT_GE(v, -0.5f);
    ASSERT_LT(v, 2.0f);
    sum += v;
  }
  EXPECT_NEAR(sum / va.size(), 0.75, 0.01);
}

TEST(Memory, NormalFillHasRequestedMoments) {
  Context ctx;
  Buffer a(ctx, WPM_F32, 400000);
  WPM_ASSERT_OK(wpm_fill_normal(a, 99, 1.0f, 0.5f));
  double sum = 0, sq = 0;
  std::vector<float> v = a.download();
  for (float x : v) {
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sq += double(x) * x;
  }
  double mean = sum / v.size(), var = sq / v.size() - mean * mean;
  EXPECT_NEAR(mean, 1.0, 0.005);
  EXPECT_NEAR(std::sqrt(var), 0.5, 0.005);
}

TEST(Memory, RandomFillMatchesCounterFormulaInHalfTypes) {
  Context ctx;
  Buffer a(ctx, WPM_F32, 1000), h(ctx, WPM_BF16, 1000);
  WPM_ASSERT_OK(wpm_fill_normal(a, 5, 0, 1));
  WPM_ASSERT_OK(wpm_fill_normal(h, 5, 0, 1));
  std::vector<float> va = a.download(), vh = h.download();
  for (size_t i = 0; i < va.size(); ++i) ASSERT_EQ(vh[i], round_to(WPM_BF16, va[i])) << i;
}

TEST(Memory, BadArgumentsAreNamed) {
  Context ctx;
  wpm_buffer* buf = nullptr;
  EXPECT_EQ(wpm_buffer_alloc(nullptr, WPM_F32, 4, &buf), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("'context'"));
  EXPECT_EQ(wpm_buffer_alloc(ctx, static_cast<wpm_dtype>(12), 4, &buf), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("'dtype'"));
  EXPECT_EQ(wpm_buffer_alloc(ctx, WPM_F32, SIZE_MAX, &buf), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("'count'"));
  EXPECT_EQ(wpm_buffer_alloc(ctx, WPM_F32, 4, nullptr), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("'buffer'"));

  Buffer b(ctx, WPM_F32, 4);
  float host[8] = {};
  EXPECT_EQ(wpm_buffer_write(b, 0, nullptr, 4), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("'host'"));
  EXPECT_EQ(wpm_buffer_write(b, 1, host, 4), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wpm_buffer_read(b, 0, host, 5), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wpm_fill_uniform(b, 1, 2.0f, 1.0f), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("'low'"));
  EXPECT_EQ(wpm_fill_normal(b, 1, 0.0f, -1.0f), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("'stddev'"));
  EXPECT_EQ(wpm_fill_normal(b, 1, NAN, 1.0f), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("'mean'"));

  Buffer ids(ctx, WPM_I32, 4);
  EXPECT_EQ(wpm_fill_uniform(ids, 1, 0, 1), WPM_ERR_DTYPE);
  EXPECT_TRUE(message_names("i32"));
}

TEST(Memory, FreedBufferIsRejectedNotDereferenced) {
  Context ctx;
  wpm_buffer* buf = nullptr;
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 4, &buf));
  WPM_ASSERT_OK(wpm_buffer_free(buf));
  float host[4];
  EXPECT_EQ(wpm_buffer_read(buf, 0, host, 4), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_names("not a live buffer")) << wpm_last_error();
  EXPECT_EQ(wpm_buffer_free(buf), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(wpm_buffer_free(nullptr), WPM_OK);
}

TEST(Memory, BufferOutlivesItsContextForFree) {
  wpm_context* ctx = nullptr;
  WPM_ASSERT_OK(wpm_context_create(nullptr, &ctx));
  wpm_buffer* buf = nullptr;
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 16, &buf));
  WPM_ASSERT_OK(wpm_context_destroy(ctx));
  WPM_ASSERT_OK(wpm_buffer_free(buf));
}
