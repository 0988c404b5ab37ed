// kernels/rope.cu under the emulator: forward and backward in place against a
// float64 rotation and the CPU backend, with and without positions (large
// ones too), f32/f16/bf16, odd head counts, and the same bits in every schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;
using emu_test::DtypeCase;
using emu_test::kDtypes;
using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::rope;

struct Shape {
  int64_t b, t, h, d;
};

std::vector<double> reference(const std::vector<float>& x, const std::vector<int32_t>& pos, Shape s, float theta,
                              double sign) {
  std::vector<double> out(x.begin(), x.end());
  const int64_t half = s.d / 2;
  for (int64_t token = 0; token < s.b * s.t; ++token) {
    const double p = pos.empty() ? double(token % s.t) : double(pos[size_t(token)]);
    for (int64_t head = 0; head < s.h; ++head)
      for (int64_t i = 0; i < half; ++i) {
        const double angle = p * std::pow(double(theta), -2.0 * double(i) / double(s.d));
        const size_t lo = size_t((token * s.h + head) * s.d + i), hi = lo + size_t(half);
        const double a = x[lo], b = x[hi], c = std::cos(angle), sn = sign * std::sin(angle);
        out[lo] = a * c - b * sn;
        out[hi] = b * c + a * sn;
      }
  }
  return out;
}

std::vector<uint8_t> run_emu(const DtypeCase& c, const std::vector<float>& x, const std::vector<int32_t>& pos, Shape s,
                             float theta, bool bwd, std::vector<float>* values) {
  DeviceArray dx(c.kd, x);
  DeviceArray dpos(pos.empty() ? std::vector<int32_t>{0} : pos);
  const int32_t* p = pos.empty() ? nullptr : dpos.as<int32_t>();
  const kstatus st = bwd ? rope_bwd(nullptr, dx.data(), p, s.b, s.t, s.h, s.d, theta, c.kd)
                         : rope_fwd(nullptr, dx.data(), p, s.b, s.t, s.h, s.d, theta, c.kd);
  EXPECT_EQ(st, KSTATUS_OK) << klast_error();
  if (values) *values = dx.download();
  return dx.bytes();
}

TEST(EmuRope, MatchesFloat64AndTheCpuBackend) {
  for (Shape s : {Shape{1, 1, 1, 2}, Shape{2, 5, 3, 64}, Shape{1, 3, 7, 128}, Shape{3, 2, 2, 10}})
    for (bool with_positions : {false, true})
      for (const DtypeCase& c : kDtypes)
        for (bool bwd : {false, true}) {
          const size_t n = size_t(s.b * s.t * s.h * s.d);
          const auto x = wpm_test::random_values(n, uint32_t(n + bwd), -2.0f, 2.0f, c.wpm);
          std::vector<int32_t> pos;
          if (with_positions)
            for (int64_t i = 0; i < s.b * s.t; ++i) pos.push_back(int32_t(i * 7919 % 40000));  // up to 40k
          const float theta = 1e6f;
          std::vector<float> got;
          run_emu(c, x, pos, s, theta, bwd, &got);
          Context ctx;
          Buffer bx(ctx, c.wpm, x), bp(ctx, WPM_I32, pos.empty() ? 1 : pos.size());
          if (!pos.empty()) bp.upload_i32(pos);
          const wpm_buffer* p = pos.empty() ? nullptr : bp.get();
          ASSERT_EQ(bwd ? rope(ctx, true, bx, p, s.b, s.t, s.h, s.d, theta)
                        : rope(ctx, false, bx, p, s.b, s.t, s.h, s.d, theta),
                    WPM_OK)
              << wpm_last_error();
          const auto cpu = bx.download();
          const std::string label = std::string(wpm_test::dtype_label(c.wpm)) + (bwd ? " bwd" : " fwd") + " d=" +
                                    std::to_string(s.d) + (with_positions ? " positions" : "");
          const double tol = wpm_test::tolerance(c.wpm, false);
          EXPECT_LT(wpm_test::rel_error(got, reference(x, pos, s, theta, bwd ? -1.0 : 1.0)), tol) << label;
          EXPECT_LT(wpm_test::rel_error(got, std::vector<double>(cpu.begin(), cpu.end())), tol) << label << " vs CPU";
        }
}

TEST(EmuRope, BackwardUndoesForward) {
  const Shape s{2, 3, 4, 64};
  const auto x = wpm_test::random_values(size_t(2 * 3 * 4 * 64), 3);
  DeviceArray dx(kdtype::f32, x);
  ASSERT_EQ(rope_fwd(nullptr, dx.data(), nullptr, s.b, s.t, s.h, s.d, 1e4f, kdtype::f32), KSTATUS_OK);
  ASSERT_EQ(rope_bwd(nullptr, dx.data(), nullptr, s.b, s.t, s.h, s.d, 1e4f, kdtype::f32), KSTATUS_OK);
  EXPECT_LT(wpm_test::rel_error(dx.download(), std::vector<double>(x.begin(), x.end())), 1e-6);
}

TEST(EmuRope, BitwiseIdenticalInEverySchedule) {
  const Shape s{2, 3, 5, 128};  // 320 pairs per token over 128 threads: 3 strided steps
  for (const DtypeCase& c : kDtypes) {
    const auto x = wpm_test::random_values(size_t(2 * 3 * 5 * 128), 4, -2.0f, 2.0f, c.wpm);
    emu_test::expect_same_bits_in_every_schedule([&] { return run_emu(c, x, {}, s, 1e6f, false, nullptr); }, "rope");
  }
}

TEST(EmuRope, LauncherChecksItsArguments) {
  float v = 0;
  EXPECT_EQ(rope_fwd(nullptr, &v, nullptr, 1, 1, 1, 3, 1e4f, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("d = 3 must be even"), std::string::npos) << klast_error();
  EXPECT_EQ(rope_fwd(nullptr, &v, nullptr, 1, 1, 1, 2, 0.0f, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(rope_bwd(nullptr, nullptr, nullptr, 1, -1, 1, 2, 1e4f, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("t = -1"), std::string::npos) << klast_error();
}

}  // namespace
