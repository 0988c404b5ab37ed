// Gradient utilities: the global norm against float64 (bit-identical across
// repeats and thread counts, no overflow for large values), scale-and-check-
// finite with and without a planted inf/NaN, and the argument checks.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;

struct Spec {
  size_t count;
  wpm_dtype dtype;
};

const std::vector<Spec> kMixed = {{37, WPM_F32}, {1000, WPM_F16}, {50001, WPM_BF16}, {1, WPM_F32}, {16385, WPM_F32}};

// Host values (rounded to each dtype) and device buffers holding them.
struct Tensors {
  std::vector<std::vector<float>> values;
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::vector<wpm_buffer*> handles;

  Tensors(wpm_context* ctx, const std::vector<Spec>& specs, uint32_t seed, float low = -3, float high = 3) {
    for (size_t i = 0; i < specs.size(); ++i) {
      values.push_back(wpm_test::random_values(specs[i].count, seed + uint32_t(i), low, high, specs[i].dtype));
      buffers.push_back(std::make_unique<Buffer>(ctx, specs[i].dtype, values.back()));
      handles.push_back(*buffers.back());
    }
  }
  const wpm_buffer* const* const_handles() const { return handles.data(); }
  int64_t count() const { return int64_t(handles.size()); }
};

double ref_norm(const std::vector<std::vector<float>>& values) {
  double sum = 0;
  for (const auto& v : values)
    for (float x : v) sum += double(x) * double(x);
  return std::sqrt(sum);
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}


float global_norm(wpm_context* ctx, const Tensors& t) {
  Buffer out(ctx, WPM_F32, 1);
  out.poison();
  EXPECT_EQ(wpm_global_norm(ctx, t.const_handles(), t.count(), out), WPM_OK) << wpm_last_error();
  return out.download()[0];
}

TEST(GlobalNorm, MixedDtypesMatchTheReference) {
  Context ctx;
  Tensors t(ctx, kMixed, 100);
  EXPECT_LE(wpm_test::rel_error({global_norm(ctx, t)}, {ref_norm(t.values)}), wpm_test::tolerance(WPM_F32, true));
}

TEST(GlobalNorm, SameBitsOnRepeatsAndForAnyThreadCount) {
  Context one(1), four(4);
  Tensors t1(one, kMixed, 200), t4(four, kMixed, 200);
  const float first = global_norm(one, t1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bits(global_norm(one, t1)), bits(first));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bits(global_norm(four, t4)), bits(first));
}

TEST(GlobalNorm, LargeValuesDoNotOverflowTheSumOfSquares) {
  Context ctx;
  Tensors t(ctx, {{3001, WPM_F32}}, 300, 1e25f, 3e25f);  // squares overflow f32, not the norm
  EXPECT_LE(wpm_test::rel_error({global_norm(ctx, t)}, {ref_norm(t.values)}), wpm_test::tolerance(WPM_F32, true));
}

TEST(GlobalNorm, NoTensorsGivesZero) {
  Context ctx;
  Buffer out(ctx, WPM_F32, 1);
  out.poison();
  WPM_ASSERT_OK(wpm_global_norm(ctx, nullptr, 0, out));
  EXPECT_EQ(out.download()[0], 0.0f);
}

TEST(GlobalNormArgs, BadArgumentsAreNamed) {
  Context ctx;
  Tensors t(ctx, {{10, WPM_F32}, {10, WPM_F16}}, 400);
  Buffer out(ctx, WPM_F32, 1), f16_out(ctx, WPM_F16, 1), ids(ctx, WPM_I32, 10), empty_out(ctx, WPM_F32, 0);
  expect_error(wpm_global_norm(ctx, nullptr, 2, out), WPM_ERR_INVALID_ARGUMENT, "'tensors'");
  expect_error(wpm_global_norm(ctx, t.const_handles(), -1, out), WPM_ERR_INVALID_ARGUMENT, "'count'");
  expect_error(wpm_global_norm(ctx, t.const_handles(), 2, nullptr), WPM_ERR_INVALID_ARGUMENT, "'out'");
  expect_error(wpm_global_norm(ctx, t.const_handles(), 2, f16_out), WPM_ERR_DTYPE, "'out'");
  expect_error(wpm_global_norm(ctx, t.const_handles(), 2, empty_out), WPM_ERR_INVALID_ARGUMENT, "'out'");
  const wpm_buffer* with_null[] = {t.handles[0], nullptr};
  expect_error(wpm_global_norm(ctx, with_null, 2, out), WPM_ERR_INVALID_ARGUMENT, "'tensors[1]'");
  const wpm_buffer* with_i32[] = {ids, t.handles[1]};
  expect_error(wpm_global_norm(ctx, with_i32, 2, out), WPM_ERR_DTYPE, "'tensors[0]'");
}

// Runs scale_check_finite and returns found_inf (poisoned first).
float scale_check(wpm_context* ctx, Tensors& t, float scale) {
  Buffer found(ctx, WPM_F32, 1);
  found.poison();
  EXPECT_EQ(wpm_scale_check_finite(ctx, t.handles.data(), t.count(), scale, found), WPM_OK) << wpm_last_error();
  return found.download()[0];
}

void expect_scaled(const Tensors& t, const std::vector<Spec>& specs, float scale) {
  for (size_t i = 0; i < specs.size(); ++i) {
    std::vector<double> ref(t.values[i].size());
    for (size_t j = 0; j < ref.size(); ++j) ref[j] = double(t.values[i][j]) * double(scale);
    EXPECT_LE(wpm_test::rel_error(t.buffers[i]->download(), ref), wpm_test::tolerance(specs[i].dtype, false))
        << "tensor " << i;
  }
}

TEST(ScaleCheckFinite, FiniteTensorsAreScaledAndReportZero) {
  Context ctx(4);
  Tensors t(ctx, kMixed, 500);
  EXPECT_EQ(scale_check(ctx, t, 0.37f), 0.0f);
  expect_scaled(t, kMixed, 0.37f);
}

TEST(ScaleCheckFinite, APlantedInfOrNanIsFoundInAnyTensor) {
  Context ctx(4);
  for (float planted : {INFINITY, -INFINITY, NAN}) {
    for (size_t victim : {size_t(0), size_t(2)}) {
      Tensors t(ctx, kMixed, 600);
      std::vector<float> v = t.values[victim];
      v[v.size() - 1] = planted;  // the very last element: in the last chunk
      t.buffers[victim]->upload(v);
      EXPECT_EQ(scale_check(ctx, t, 0.5f), 1.0f) << planted << " in tensor " << victim;
    }
  }
}

TEST(ScaleCheckFinite, AnF16ProductThatOverflowsItsStorageIsFound) {
  Context ctx;
  Tensors t(ctx, {{9, WPM_F16}}, 700);
  std::vector<float> v = t.values[0];
  v[4] = 60000.0f;  // finite in f16; times 2 it is not
  t.buffers[0]->upload(v);
  EXPECT_EQ(scale_check(ctx, t, 2.0f), 1.0f);
  EXPECT_TRUE(std::isinf(t.buffers[0]->download()[4]));
}

TEST(ScaleCheckFiniteArgs, BadArgumentsAreNamed) {
  Context ctx;
  Tensors t(ctx, {{10, WPM_F32}, {10, WPM_BF16}}, 800);
  Buffer found(ctx, WPM_F32, 1), i32_found(ctx, WPM_I32, 1);
  expect_error(wpm_scale_check_finite(ctx, nullptr, 2, 1.0f, found), WPM_ERR_INVALID_ARGUMENT, "'tensors'");
  expect_error(wpm_scale_check_finite(ctx, t.handles.data(), -2, 1.0f, found), WPM_ERR_INVALID_ARGUMENT, "'count'");
  expect_error(wpm_scale_check_finite(ctx, t.handles.data(), 2, NAN, found), WPM_ERR_INVALID_ARGUMENT, "'scale'");
  expect_error(wpm_scale_check_finite(ctx, t.handles.data(), 2, 1.0f, nullptr), WPM_ERR_INVALID_ARGUMENT,
               "'found_inf'");
  expect_error(wpm_scale_check_finite(ctx, t.handles.data(), 2, 1.0f, i32_found), WPM_ERR_DTYPE, "'found_inf'");
  wpm_buffer* with_null[] = {t.handles[0], nullptr};
  expect_error(wpm_scale_check_finite(ctx, with_null, 2, 1.0f, found), WPM_ERR_INVALID_ARGUMENT, "'tensors[1]'");
  EXPECT_EQ(t.buffers[0]->download(), t.values[0]) << "a failed call must not scale anything";
}

}  // namespace
