// kernels/grad_norm.cu under the emulator: the global norm over mixed-dtype
// tensors against float64 and the CPU backend, inf/NaN propagating, the same
// bits in every schedule; scale_check_finite against the CPU backend (values
// bit-exact, flag set for an f16 product that overflows, cleared otherwise),
// over more than one staged chunk of its table, the same bits in every schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;
using emu_test::DtypeCase;
using emu_test::kDtypes;
using wpm_test::Buffer;
using wpm_test::Context;

struct Tensors {
  std::vector<DtypeCase> dtypes;
  std::vector<std::vector<float>> values;
};

Tensors make_tensors() {
  Tensors t;
  const size_t counts[] = {1000, 1, 70001, 37, 4099};
  for (size_t i = 0; i < 5; ++i) {
    t.dtypes.push_back(kDtypes[i % 3]);
    t.values.push_back(wpm_test::random_values(counts[i], uint32_t(i + 1), -3.0f, 3.0f, kDtypes[i % 3].wpm));
  }
  return t;
}

// The tensors on the emulated device with their table (also in device memory).
struct DeviceTensors {
  std::vector<std::unique_ptr<DeviceArray>> arrays;
  char* table = nullptr;
  explicit DeviceTensors(const Tensors& t) {
    std::vector<ktensor> refs;
    for (size_t i = 0; i < t.values.size(); ++i) {
      arrays.push_back(std::make_unique<DeviceArray>(t.dtypes[i].kd, t.values[i]));
      refs.push_back(ktensor{arrays.back()->data(), int64_t(t.values[i].size()), t.dtypes[i].kd});
    }
    table = static_cast<char*>(emu::device_alloc(refs.size() * sizeof(ktensor), "tensor table"));
    std::memcpy(table, refs.data(), refs.size() * sizeof(ktensor));
  }
  ~DeviceTensors() { emu::device_free(table); }
  const ktensor* refs() const { return reinterpret_cast<const ktensor*>(table); }
  int64_t count() const { return int64_t(arrays.size()); }
};

std::vector<uint8_t> norm_emu(const Tensors& t, float* value) {
  DeviceTensors d(t);
  DeviceArray workspace(kdtype::f32, size_t(global_norm_workspace_bytes() / 4)), out(kdtype::f32, 1);
  workspace.poison();
  out.poison();
  EXPECT_EQ(global_norm(nullptr, d.refs(), d.count(), workspace.data(), out.as<float>()), KSTATUS_OK) << klast_error();
  if (value) *value = out.download()[0];
  return out.bytes();
}

float norm_cpu(const Tensors& t) {
  Context ctx;
  std::vector<std::unique_ptr<Buffer>> keep;
  std::vector<const wpm_buffer*> refs;
  for (size_t i = 0; i < t.values.size(); ++i) {
    keep.push_back(std::make_unique<Buffer>(ctx, t.dtypes[i].wpm, t.values[i]));
    refs.push_back(keep.back()->get());
  }
  Buffer out(ctx, WPM_F32, 1);
  EXPECT_EQ(wpm_global_norm(ctx, refs.data(), int64_t(refs.size()), out), WPM_OK) << wpm_last_error();
  return out.download()[0];
}

TEST(EmuGlobalNorm, MatchesFloat64AndTheCpuBackend) {
  const Tensors t = make_tensors();
  double sum = 0;
  for (const auto& v : t.values)
    for (float x : v) sum += double(x) * x;
  float got = 0;
  norm_emu(t, &got);
  EXPECT_LT(std::fabs(got - std::sqrt(sum)), 1e-6 * std::sqrt(sum)) << got;
  EXPECT_LT(std::fabs(got - norm_cpu(t)), 1e-6 * std::sqrt(sum)) << got;
}

TEST(EmuGlobalNorm, InfOrNaNElementGivesANonFiniteNorm) {
  Tensors t = make_tensors();
  t.values[2][500] = std::numeric_limits<float>::infinity();
  float got = 0;
  norm_emu(t, &got);
  EXPECT_FALSE(std::isfinite(got));
  t.values[2][500] = std::numeric_limits<float>::quiet_NaN();
  norm_emu(t, &got);
  EXPECT_TRUE(std::isnan(got));
}

TEST(EmuGlobalNorm, BitwiseIdenticalInEverySchedule) {
  const Tensors t = make_tensors();
  emu_test::expect_same_bits_in_every_schedule([&] { return norm_emu(t, nullptr); }, "global_norm");
}

// Scales in place; returns found_inf and the scaled values.
float scale_emu(const Tensors& t, float scale, std::vector<std::vector<float>>* scaled) {
  DeviceTensors d(t);
  DeviceArray found(kdtype::f32, 1);
  found.poison();
  EXPECT_EQ(scale_check_finite(nullptr, d.refs(), d.count(), scale, found.as<float>()), KSTATUS_OK) << klast_error();
  for (const auto& a : d.arrays) scaled->push_back(a->download());
  return found.download()[0];
}

float scale_cpu(const Tensors& t, float scale, std::vector<std::vector<float>>* scaled) {
  Context ctx;
  std::vector<std::unique_ptr<Buffer>> keep;
  std::vector<wpm_buffer*> refs;
  for (size_t i = 0; i < t.values.size(); ++i) {
    keep.push_back(std::make_unique<Buffer>(ctx, t.dtypes[i].wpm, t.values[i]));
    refs.push_back(keep.back()->get());
  }
  Buffer found(ctx, WPM_F32, 1);
  EXPECT_EQ(wpm_scale_check_finite(ctx, refs.data(), int64_t(refs.size()), scale, found), WPM_OK) << wpm_last_error();
  for (const auto& b : keep) scaled->push_back(b->download());
  return found.download()[0];
}

TEST(EmuScaleCheckFinite, MatchesTheCpuBackendAndFlagsOverflow) {
  // 3 * 30000 overflows f16 (tensors 1 and 4) but not f32 or bf16.
  for (float scale : {0.125f, 30000.0f}) {
    const Tensors t = make_tensors();
    std::vector<std::vector<float>> got, cpu;
    const float flag = scale_emu(t, scale, &got), cpu_flag = scale_cpu(t, scale, &cpu);
    EXPECT_EQ(flag, scale == 0.125f ? 0.0f : 1.0f) << scale;
    EXPECT_EQ(flag, cpu_flag) << scale;
    for (size_t i = 0; i < got.size(); ++i)
      for (size_t k = 0; k < got[i].size(); ++k)
        ASSERT_EQ(got[i][k], cpu[i][k]) << "tensor " << i << " element " << k << " scale " << scale;
  }
}

// 40 tensors, more than one chunk of the table staged in shared memory (32 entries), f16 only past the first
// chunk: at 30000 only those overflow (3 * 30000 > 65504), so the flag is found past the chunk boundary; the
// values match the CPU backend and the bits (values and flag) are the same in every schedule.
TEST(EmuScaleCheckFinite, BitwiseIdenticalInEveryScheduleAcrossTableChunks) {
  const DtypeCase* f16 = nullptr;
  std::vector<const DtypeCase*> wide;
  for (const DtypeCase& c : kDtypes) {
    if (c.kd == kdtype::f16) f16 = &c;
    else wide.push_back(&c);
  }
  ASSERT_NE(f16, nullptr);
  Tensors t;
  for (size_t i = 0; i < 40; ++i) {
    const DtypeCase& c = i < 32 ? *wide[i % wide.size()] : *f16;
    t.dtypes.push_back(c);
    t.values.push_back(wpm_test::random_values(100 + 37 * i, uint32_t(i + 11), -3.0f, 3.0f, c.wpm));
  }
  for (float scale : {0.125f, 30000.0f}) {
    std::vector<std::vector<float>> got, cpu;
    const float flag = scale_emu(t, scale, &got);
    EXPECT_EQ(flag, scale_cpu(t, scale, &cpu)) << scale;
    EXPECT_EQ(flag, scale == 0.125f ? 0.0f : 1.0f) << scale;
    for (size_t i = 0; i < got.size(); ++i)
      for (size_t k = 0; k < got[i].size(); ++k)
        ASSERT_EQ(got[i][k], cpu[i][k]) << "tensor " << i << " element " << k << " scale " << scale;
    emu_test::expect_same_bits_in_every_schedule(
        [&] {
          std::vector<std::vector<float>> scaled;
          const float found = scale_emu(t, scale, &scaled);
          std::vector<uint8_t> bytes(sizeof found);
          std::memcpy(bytes.data(), &found, sizeof found);
          for (const std::vector<float>& v : scaled) {
            const size_t at = bytes.size();
            bytes.resize(at + v.size() * sizeof(float));
            std::memcpy(bytes.data() + at, v.data(), v.size() * sizeof(float));
          }
          return bytes;
        },
        "scale_check_finite");
  }
}

TEST(EmuScaleCheckFinite, NaNIsFoundAndTheFlagIsRewrittenEveryCall) {
  Tensors t = make_tensors();
  t.values[0][3] = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::vector<float>> scaled;
  EXPECT_EQ(scale_emu(t, 1.0f, &scaled), 1.0f);
  t.values[0][3] = 1.0f;
  scaled.clear();
  EXPECT_EQ(scale_emu(t, 1.0f, &scaled), 0.0f);  // the poisoned flag is cleared, not left NaN
}

}  // namespace
