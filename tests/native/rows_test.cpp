// Row ops by index (wpm_rows_gather, wpm_rows_scatter_add) on cpu and emu: results
// against a float64 reference for every float dtype with repeated indices, the
// scatter-add accumulating into what dst held, and the argument checks.
#include <string>
#include <vector>

#include "backend_param.h"
#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::expect_error;

constexpr wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};

wpm_rows_params rows(int64_t n, int64_t r, int64_t c, const wpm_buffer* index, const wpm_buffer* src,
                     wpm_buffer* dst) {
  wpm_rows_params p{};
  p.struct_size = sizeof p;
  p.n = n, p.r = r, p.c = c;
  p.index = index, p.src = src, p.dst = dst;
  return p;
}

class Rows : public wpm_test::HostBackendTest {
 protected:
  void SetUp() override {
    wpm_test::HostBackendTest::SetUp();
    if (IsSkipped()) return;
    wpm_context_options options{sizeof options, GetParam().kind, 2, 0, nullptr};
    ASSERT_EQ(wpm_context_create(&options, &ctx), WPM_OK) << wpm_last_error();
  }
  void TearDown() override {
    if (ctx != nullptr) wpm_context_destroy(ctx);
  }
  wpm_context* ctx = nullptr;
};

// Index 5 three times, 0 and r - 1 once each; n = 6 rows of c = 300 (more than one 256-column chunk).
const std::vector<int32_t> kIndex = {5, 0, 5, 7, 2, 5};
constexpr int64_t kN = 6, kR = 8, kC = 300;

TEST_P(Rows, GatherCopiesTheIndexedRows) {
  for (wpm_dtype dtype : kDtypes) {
    std::vector<float> all = wpm_test::random_values(size_t(kR * kC), 7, -2, 2, dtype);
    Buffer index(ctx, WPM_I32, kIndex.size()), src(ctx, dtype, all), dst(ctx, dtype, size_t(kN * kC));
    index.upload_i32(kIndex);
    dst.poison();
    wpm_rows_params p = rows(kN, kR, kC, index, src, dst);
    WPM_ASSERT_OK(wpm_rows_gather(ctx, &p));
    std::vector<float> got = dst.download();
    for (int64_t i = 0; i < kN; ++i)
      for (int64_t j = 0; j < kC; ++j)
        ASSERT_EQ(got[size_t(i * kC + j)], all[size_t(kIndex[size_t(i)] * kC + j)])
            << wpm_test::dtype_label(dtype) << " row " << i << " col " << j;
  }
}

TEST_P(Rows, ScatterAddSumsRepeatedIndicesIntoWhatDstHeld) {
  for (wpm_dtype dtype : kDtypes) {
    std::vector<float> picked = wpm_test::random_values(size_t(kN * kC), 11, -1, 1, dtype);
    std::vector<float> before = wpm_test::random_values(size_t(kR * kC), 12, -1, 1, dtype);
    Buffer index(ctx, WPM_I32, kIndex.size()), src(ctx, dtype, picked), dst(ctx, dtype, before);
    index.upload_i32(kIndex);
    wpm_rows_params p = rows(kN, kR, kC, index, src, dst);
    WPM_ASSERT_OK(wpm_rows_scatter_add(ctx, &p));
    std::vector<double> want(before.begin(), before.end());
    for (int64_t i = 0; i < kN; ++i)
      for (int64_t j = 0; j < kC; ++j) want[size_t(kIndex[size_t(i)] * kC + j)] += picked[size_t(i * kC + j)];
    std::vector<float> got = dst.download();
    EXPECT_LE(wpm_test::rel_error(got, want), wpm_test::tolerance(dtype, false)) << wpm_test::dtype_label(dtype);
    // Rows no index names keep their bits.
    for (int64_t row : {1, 3, 4, 6})
      for (int64_t j = 0; j < kC; ++j) ASSERT_EQ(got[size_t(row * kC + j)], before[size_t(row * kC + j)]) << row;
    // The same bits again from the same start.
    dst.upload(before);
    WPM_ASSERT_OK(wpm_rows_scatter_add(ctx, &p));
    EXPECT_EQ(dst.download(), got) << wpm_test::dtype_label(dtype);
  }
}

TEST_P(Rows, GatherThenScatterAddIntoZerosIsTheScoringRowRoundTrip) {
  // Distinct indices: scatter-add into zeros puts each picked row back and leaves the others 0, as the
  // trainer uses it for the scoring rows (one per sequence of a [B, T] batch).
  const int64_t b = 3, t = 4, c = 5;
  const std::vector<int32_t> scoring = {2, 4 + 3, 8 + 0};
  std::vector<float> hidden = wpm_test::random_values(size_t(b * t * c), 21);
  Buffer index(ctx, WPM_I32, scoring.size()), all(ctx, WPM_F32, hidden), picked(ctx, WPM_F32, size_t(b * c)),
      back(ctx, WPM_F32, std::vector<float>(size_t(b * t * c), 0.0f));
  index.upload_i32(scoring);
  wpm_rows_params gather = rows(b, b * t, c, index, all, picked);
  WPM_ASSERT_OK(wpm_rows_gather(ctx, &gather));
  wpm_rows_params scatter = rows(b, b * t, c, index, picked, back);
  WPM_ASSERT_OK(wpm_rows_scatter_add(ctx, &scatter));
  std::vector<float> got = back.download();
  for (int64_t row = 0; row < b * t; ++row) {
    const bool picked_row = row == 2 || row == 7 || row == 8;
    for (int64_t j = 0; j < c; ++j)
      ASSERT_EQ(got[size_t(row * c + j)], picked_row ? hidden[size_t(row * c + j)] : 0.0f) << row;
  }
}

TEST_P(Rows, ArgumentsAreCheckedAndNamed) {
  Buffer index(ctx, WPM_I32, 2), f32(ctx, WPM_F32, 8), f32b(ctx, WPM_F32, 8), f16(ctx, WPM_F16, 8),
      small(ctx, WPM_F32, 7), idx_f(ctx, WPM_F32, 2);
  index.upload_i32({0, 1});
  auto both = [&](wpm_rows_params p, wpm_status want, std::initializer_list<const char*> words) {
    expect_error(wpm_rows_gather(ctx, &p), want, words);
    expect_error(wpm_rows_scatter_add(ctx, &p), want, words);
  };
  wpm_rows_params good = rows(2, 2, 4, index, f32, f32b);
  WPM_ASSERT_OK(wpm_rows_gather(ctx, &good));
  WPM_ASSERT_OK(wpm_rows_scatter_add(ctx, &good));
  expect_error(wpm_rows_gather(ctx, nullptr), WPM_ERR_INVALID_ARGUMENT, {"'params'"});
  wpm_rows_params p = good;
  p.struct_size = 8;
  both(p, WPM_ERR_INVALID_ARGUMENT, {"'params'", "struct_size"});
  both(rows(-1, 2, 4, index, f32, f32b), WPM_ERR_INVALID_ARGUMENT, {"'n'"});
  both(rows(int64_t(1) << 31, 2, 4, index, f32, f32b), WPM_ERR_INVALID_ARGUMENT, {"'n'"});
  both(rows(2, 0, 4, index, f32, f32b), WPM_ERR_INVALID_ARGUMENT, {"'r'"});
  both(rows(2, 2, -4, index, f32, f32b), WPM_ERR_INVALID_ARGUMENT, {"'c'"});
  both(rows(2, 2, 4, nullptr, f32, f32b), WPM_ERR_INVALID_ARGUMENT, {"'index'"});
  both(rows(2, 2, 4, idx_f, f32, f32b), WPM_ERR_DTYPE, {"'index'"});
  both(rows(2, 2, 4, index, small, f32b), WPM_ERR_INVALID_ARGUMENT, {"'src'"});
  both(rows(2, 2, 4, index, f32, small), WPM_ERR_INVALID_ARGUMENT, {"'dst'"});
  both(rows(2, 2, 4, index, f32, f16), WPM_ERR_DTYPE, {"'dst'"});
  both(rows(2, 2, 4, index, f32, f32), WPM_ERR_INVALID_ARGUMENT, {"'dst'", "shares memory"});
  // r * c past the element count of the [r, c] side's buffer: gather reads src that large, scatter-add writes dst.
  expect_error([&] { wpm_rows_params q = rows(2, 3, 4, index, f32, f32b); return wpm_rows_gather(ctx, &q); }(),
               WPM_ERR_INVALID_ARGUMENT, {"'src'"});
  expect_error([&] { wpm_rows_params q = rows(2, 3, 4, index, f32, f32b); return wpm_rows_scatter_add(ctx, &q); }(),
               WPM_ERR_INVALID_ARGUMENT, {"'dst'"});
}

// The CPU backend fails the call; a device backend checks on the stream and fails the next read-back.
TEST_P(Rows, AnIndexOutsideTheRowsIsReportedWithItsPositionAndValue) {
  Buffer index(ctx, WPM_I32, 3), src(ctx, WPM_F32, 12), dst(ctx, WPM_F32, 12);
  const bool on_device = GetParam().kind != WPM_BACKEND_CPU;
  for (int32_t bad : {-1, 3, 2147483647}) {
    index.upload_i32({0, bad, 2});
    wpm_rows_params p = rows(3, 3, 4, index, src, dst);
    const std::string value = "is " + std::to_string(bad);
    for (bool scatter : {false, true}) {
      const char* function = scatter ? "wpm_rows_scatter_add" : "wpm_rows_gather";
      wpm_status status = scatter ? wpm_rows_scatter_add(ctx, &p) : wpm_rows_gather(ctx, &p);
      if (on_device) {
        WPM_ASSERT_OK(status);
        status = wpm_synchronize(ctx);
      }
      expect_error(status, WPM_ERR_INVALID_ARGUMENT, {function, "'index[1]'", value.c_str()});
      EXPECT_STREQ(wpm_last_error_argument(), "index");
      WPM_ASSERT_OK(wpm_synchronize(ctx));  // reported once
    }
  }
}

WPM_INSTANTIATE_HOST_BACKENDS(Rows);

}  // namespace
