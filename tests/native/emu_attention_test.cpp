// kernels/attention.cu (attention_fwd) run through the emulator: against a
// float64 reference and against the CPU backend (an independent
// implementation, through the C ABI, on the same f16/bf16 values), for f16 and
// bf16, D 64 and 128, T not a multiple of the 64-row tiles, length-1
// sequences, right and left padding, GQA ratios 1, 2 and 4. Outputs are
// poisoned first and the padding rows of the inputs hold NaN (never read).
// Results must be bitwise identical in every schedule, with cp.async delivered
// late (the default) and eagerly (which exposes a missing write-after-read
// barrier before a buffer is refilled).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "emu_attention_shape.h"
#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;
using wpm_test::Buffer;
using wpm_test::Context;

using attention_test::Shape;

constexpr emu_test::DtypeCase kHalf[] = {{WPM_F16, kdtype::f16}, {WPM_BF16, kdtype::bf16}};

struct Inputs {
  std::vector<float> q, k, v;
};

// Random values rounded to the dtype; the padding rows are NaN, so reading one poisons the result.
Inputs make_inputs(const Shape& s, wpm_dtype dtype, uint32_t seed) {
  Inputs in{wpm_test::random_values(s.q_count(), seed, -2.0f, 2.0f, dtype),
            wpm_test::random_values(s.kv_count(), seed + 1, -2.0f, 2.0f, dtype),
            wpm_test::random_values(s.kv_count(), seed + 2, -2.0f, 2.0f, dtype)};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t t = 0; t < s.t; ++t) {
      if (s.valid(b, t)) continue;
      std::fill_n(&in.q[size_t((b * s.t + t) * s.h * s.d)], s.h * s.d, nan);
      std::fill_n(&in.k[size_t((b * s.t + t) * s.kvh * s.d)], s.kvh * s.d, nan);
      std::fill_n(&in.v[size_t((b * s.t + t) * s.kvh * s.d)], s.kvh * s.d, nan);
    }
  return in;
}

struct Outputs {
  std::vector<float> out, lse;
  std::vector<uint8_t> bytes;  // out then lse, for the schedule comparison
};

Outputs run_emu(const Shape& s, const emu_test::DtypeCase& c, const Inputs& in) {
  DeviceArray q(c.kd, in.q), k(c.kd, in.k), v(c.kd, in.v);
  DeviceArray out(c.kd, s.q_count()), lse(kdtype::f32, s.lse_count());
  DeviceArray lengths(s.lengths.empty() ? std::vector<int32_t>{0} : s.lengths);
  out.poison();
  lse.poison();
  const kstatus status =
      attention_fwd(nullptr, q.data(), k.data(), v.data(), s.lengths.empty() ? nullptr : lengths.as<int32_t>(),
                    out.data(), lse.as<float>(), s.b, s.t, s.h, s.kvh, s.d, s.scale, s.padding, c.kd);
  EXPECT_EQ(status, KSTATUS_OK) << klast_error();
  Outputs o{out.download(), lse.download(), out.bytes()};
  const std::vector<uint8_t> lse_bytes = lse.bytes();
  o.bytes.insert(o.bytes.end(), lse_bytes.begin(), lse_bytes.end());
  return o;
}

Outputs run_cpu(const Shape& s, const emu_test::DtypeCase& c, const Inputs& in) {
  Context ctx;
  Buffer q(ctx, c.wpm, in.q), k(ctx, c.wpm, in.k), v(ctx, c.wpm, in.v);
  Buffer out(ctx, c.wpm, s.q_count()), lse(ctx, WPM_F32, s.lse_count());
  Buffer lengths(ctx, WPM_I32, std::max<size_t>(s.lengths.size(), 1));
  if (!s.lengths.empty()) lengths.upload_i32(s.lengths);
  out.poison();
  lse.poison();
  wpm_attention_params p{sizeof p, s.b, s.t, s.h, s.kvh, s.d, s.scale,
                         s.padding == kpadding::left ? WPM_PAD_LEFT : WPM_PAD_RIGHT,
                         s.lengths.empty() ? nullptr : lengths.get(), q, k, v, out, lse, nullptr, nullptr, nullptr,
                         nullptr};
  EXPECT_EQ(wpm_attention_fwd(ctx, &p), WPM_OK) << wpm_last_error();
  return Outputs{out.download(), lse.download(), {}};
}

// float64: query i of a sequence attends its keys 0..i; padding rows 0.
void reference(const Shape& s, const Inputs& in, std::vector<double>& out, std::vector<double>& lse) {
  out.assign(s.q_count(), 0.0);
  lse.assign(s.lse_count(), 0.0);
  const double scale = s.scale != 0.0f ? s.scale : 1.0 / std::sqrt(double(s.d));
  std::vector<double> p;
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t h = 0; h < s.h; ++h) {
      const int64_t g = h / (s.h / s.kvh), off = s.off(b);
      for (int64_t i = 0; i < s.len(b); ++i) {
        const float* qr = &in.q[size_t(((b * s.t + off + i) * s.h + h) * s.d)];
        p.assign(size_t(i + 1), 0.0);
        double mx = -INFINITY;
        for (int64_t j = 0; j <= i; ++j) {
          const float* kr = &in.k[size_t(((b * s.t + off + j) * s.kvh + g) * s.d)];
          double dot = 0;
          for (int64_t x = 0; x < s.d; ++x) dot += double(qr[x]) * kr[x];
          p[size_t(j)] = dot * scale;
          mx = std::max(mx, p[size_t(j)]);
        }
        double sum = 0;
        for (double& e : p) sum += (e = std::exp(e - mx));
        double* o = &out[size_t(((b * s.t + off + i) * s.h + h) * s.d)];
        for (int64_t j = 0; j <= i; ++j) {
          const float* vr = &in.v[size_t(((b * s.t + off + j) * s.kvh + g) * s.d)];
          for (int64_t x = 0; x < s.d; ++x) o[x] += p[size_t(j)] / sum * vr[x];
        }
        lse[size_t((b * s.h + h) * s.t + off + i)] = mx + std::log(sum);
      }
    }
}

std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

void check_against_references(const Shape& s, uint32_t seed) {
  for (const auto& c : kHalf) {
    const std::string label = s.label(c);
    const Inputs in = make_inputs(s, c.wpm, seed);
    const Outputs emu = run_emu(s, c, in), cpu = run_cpu(s, c, in);
    std::vector<double> ref_out, ref_lse;
    reference(s, in, ref_out, ref_lse);
    EXPECT_LT(wpm_test::rel_error(emu.out, ref_out), 1e-2) << label << ": out vs float64";
    EXPECT_LT(wpm_test::rel_error(emu.out, widen(cpu.out)), 1e-2) << label << ": out vs the CPU backend";
    EXPECT_LT(wpm_test::rel_error(emu.lse, ref_lse), 1e-3) << label << ": lse vs float64";
    EXPECT_LT(wpm_test::rel_error(emu.lse, widen(cpu.lse)), 1e-3) << label << ": lse vs the CPU backend";
    // Padding rows: exactly 0 (the poison was overwritten).
    for (int64_t b = 0; b < s.b; ++b)
      for (int64_t t = 0; t < s.t; ++t) {
        if (s.valid(b, t)) continue;
        for (int64_t h = 0; h < s.h; ++h) {
          EXPECT_EQ(emu.lse[size_t((b * s.h + h) * s.t + t)], 0.0f) << label << " lse padding b=" << b << " t=" << t;
          for (int64_t x = 0; x < s.d; ++x)
            ASSERT_EQ(emu.out[size_t(((b * s.t + t) * s.h + h) * s.d + x)], 0.0f)
                << label << " out padding b=" << b << " t=" << t;
        }
      }
  }
}

TEST(EmuAttention, SingleTokenSequence) {
  for (int64_t d : {64, 128}) check_against_references({1, 1, 2, 1, d, kpadding::right, {}}, 1);
}

TEST(EmuAttention, RightPaddingWithATail) {
  for (int64_t d : {64, 128}) check_against_references({2, 17, 2, 2, d, kpadding::right, {17, 5}}, 2);
}

TEST(EmuAttention, LeftPaddingGqa4) {
  for (int64_t d : {64, 128}) check_against_references({2, 100, 4, 1, d, kpadding::left, {100, 37}}, 3);
}

TEST(EmuAttention, LengthOneInAFullTileGqa2) {
  for (int64_t d : {64, 128})
    for (kpadding pad : {kpadding::right, kpadding::left}) check_against_references({2, 64, 4, 2, d, pad, {1, 64}}, 4);
}

TEST(EmuAttention, SeveralKeyTilesWithAnExplicitScale) {
  for (int64_t d : {64, 128}) check_against_references({2, 200, 2, 1, d, kpadding::right, {200, 131}, 0.07f}, 5);
}

// Every schedule, with late (default) and eager cp.async delivery, gives the forward schedule's bytes.
TEST(EmuAttention, BitwiseIdenticalInEverySchedule) {
  const Shape shapes[] = {{1, 200, 2, 2, 64, kpadding::left, {190}}, {1, 150, 2, 1, 128, kpadding::right, {150}}};
  for (const Shape& s : shapes)
    for (const auto& c : kHalf) {
      const Inputs in = make_inputs(s, c.wpm, 6);
      std::vector<uint8_t> first;
      for (bool defer : {true, false})
        for (const auto& sched : emu_test::schedules()) {
          emu_test::ConfigScope scope(sched);
          emu::Config config = emu::config();
          config.defer_cp_async = defer;
          scope.set(config);
          const Outputs o = run_emu(s, c, in);
          const std::string name = std::string(sched.name) + (defer ? " deferred" : " eager");
          if (first.empty()) {
            first = o.bytes;
            std::vector<double> ref_out, ref_lse;
            reference(s, in, ref_out, ref_lse);
            EXPECT_LT(wpm_test::rel_error(o.out, ref_out), 1e-2) << s.label(c) << " " << name;
          } else {
            EXPECT_EQ(o.bytes, first) << s.label(c) << ": " << name << " differs from forward deferred";
          }
        }
    }
}

TEST(EmuAttention, LauncherChecksItsArguments) {
  alignas(16) uint16_t buf[8] = {};
  float lse = 0;
  EXPECT_EQ(attention_fwd(nullptr, buf, buf, buf, nullptr, buf, &lse, 1, 1, 1, 1, 32, 0, kpadding::right, kdtype::f16),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("d = 32"), std::string::npos) << klast_error();
  EXPECT_EQ(attention_fwd(nullptr, buf, buf, buf, nullptr, buf, &lse, 1, 1, 3, 2, 64, 0, kpadding::right, kdtype::f16),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("not a multiple"), std::string::npos) << klast_error();
  EXPECT_EQ(attention_fwd(nullptr, buf, buf, buf, nullptr, buf, &lse, 1, 1, 1, 1, 64, 0, kpadding::right, kdtype::f32),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(attention_fwd(nullptr, buf + 1, buf, buf, nullptr, buf, &lse, 1, 1, 1, 1, 64, 0, kpadding::right,
                          kdtype::f16),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("16-byte aligned"), std::string::npos) << klast_error();
}

}  // namespace
