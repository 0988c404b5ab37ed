// kernels/swiglu.cu, relu.cu and cast.cu under the emulator: against float64
// formulas and the CPU backend (through the C ABI), f32/f16/bf16, odd sizes
// with vector tails, misaligned pointers (scalar path), outputs poisoned, and
// the same bits in every schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;
using emu_test::DtypeCase;
using emu_test::kDtypes;
using wpm_test::Buffer;
using wpm_test::Context;

double sigmoid(double g) { return 1 / (1 + std::exp(-g)); }

// ---- SwiGLU: outputs {out} or {dgate, dup}.
struct SwigluRun {
  std::vector<std::vector<float>> outs;
  std::vector<uint8_t> bytes;
};

SwigluRun swiglu_emu(const DtypeCase& c, bool bwd, const std::vector<float>& g, const std::vector<float>& u,
                     const std::vector<float>& d, size_t offset) {
  const size_t n = g.size();
  DeviceArray dg(c.kd, g, offset), du(c.kd, u, offset), dd(c.kd, d, offset), o1(c.kd, n, offset), o2(c.kd, n, offset);
  o1.poison();
  o2.poison();
  const kstatus s = bwd ? swiglu_bwd(nullptr, dd.data(), dg.data(), du.data(), o1.data(), o2.data(), int64_t(n), c.kd)
                        : swiglu_fwd(nullptr, dg.data(), du.data(), o1.data(), int64_t(n), c.kd);
  EXPECT_EQ(s, KSTATUS_OK) << klast_error();
  SwigluRun r;
  r.outs.push_back(o1.download());
  r.bytes = o1.bytes();
  if (bwd) {
    r.outs.push_back(o2.download());
    const auto b2 = o2.bytes();
    r.bytes.insert(r.bytes.end(), b2.begin(), b2.end());
  }
  return r;
}

std::vector<std::vector<float>> swiglu_cpu(const DtypeCase& c, bool bwd, const std::vector<float>& g,
                                           const std::vector<float>& u, const std::vector<float>& d) {
  Context ctx;
  const int64_t n = int64_t(g.size());
  Buffer bg(ctx, c.wpm, g), bu(ctx, c.wpm, u), bd(ctx, c.wpm, d), o1(ctx, c.wpm, g.size()), o2(ctx, c.wpm, g.size());
  const wpm_status s = bwd ? wpm_swiglu_bwd(ctx, bd, bg, bu, o1, o2, n) : wpm_swiglu_fwd(ctx, bg, bu, o1, n);
  EXPECT_EQ(s, WPM_OK) << wpm_last_error();
  if (bwd) return {o1.download(), o2.download()};
  return {o1.download()};
}

void check_swiglu(size_t n, size_t offset) {
  for (const DtypeCase& c : kDtypes)
    for (bool bwd : {false, true}) {
      const auto g = wpm_test::random_values(n, uint32_t(n + bwd), -8.0f, 8.0f, c.wpm);
      const auto u = wpm_test::random_values(n, uint32_t(n + 7), -2.0f, 2.0f, c.wpm);
      const auto d = wpm_test::random_values(n, uint32_t(n + 9), -2.0f, 2.0f, c.wpm);
      const SwigluRun emu_out = swiglu_emu(c, bwd, g, u, d, offset);
      const auto cpu = swiglu_cpu(c, bwd, g, u, d);
      for (size_t o = 0; o < emu_out.outs.size(); ++o) {
        std::vector<double> ref(n), cpu_ref(cpu[o].begin(), cpu[o].end());
        for (size_t i = 0; i < n; ++i) {
          const double s = sigmoid(g[i]);
          ref[i] = !bwd ? g[i] * s * u[i] : o == 0 ? d[i] * u[i] * s * (1 + g[i] * (1 - s)) : d[i] * g[i] * s;
        }
        const std::string label = std::string(wpm_test::dtype_label(c.wpm)) + (bwd ? " bwd out " : " fwd out ") +
                                  std::to_string(o) + " n=" + std::to_string(n) + " offset=" + std::to_string(offset);
        const double tol = wpm_test::tolerance(c.wpm, false);
        EXPECT_LT(wpm_test::rel_error(emu_out.outs[o], ref), tol) << label << " vs float64";
        EXPECT_LT(wpm_test::rel_error(emu_out.outs[o], cpu_ref), tol) << label << " vs the CPU backend";
      }
    }
}

TEST(EmuSwiglu, MatchesFloat64AndTheCpuBackend) {
  for (size_t n : {size_t(1), size_t(7), size_t(1000), size_t(4099)}) check_swiglu(n, 0);
  check_swiglu(1001, 1);
}

TEST(EmuSwiglu, BitwiseIdenticalInEverySchedule) {
  for (const DtypeCase& c : kDtypes)
    for (bool bwd : {false, true}) {
      const auto g = wpm_test::random_values(2051, 1, -8.0f, 8.0f, c.wpm);
      const auto u = wpm_test::random_values(2051, 2, -2.0f, 2.0f, c.wpm);
      emu_test::expect_same_bits_in_every_schedule([&] { return swiglu_emu(c, bwd, g, u, u, 0).bytes; },
                                                   std::string("swiglu ") + wpm_test::dtype_label(c.wpm));
    }
}

// In place: dgate over gate and dup over up, as the CPU backend allows.
TEST(EmuSwiglu, BackwardMayOverwriteItsInputs) {
  const size_t n = 1003;
  const auto g = wpm_test::random_values(n, 3, -4.0f, 4.0f), u = wpm_test::random_values(n, 4);
  const auto d = wpm_test::random_values(n, 5);
  const SwigluRun separate = swiglu_emu(kDtypes[0], true, g, u, d, 0);
  DeviceArray dg(kdtype::f32, g), du(kdtype::f32, u), dd(kdtype::f32, d);
  ASSERT_EQ(swiglu_bwd(nullptr, dd.data(), dg.data(), du.data(), dg.data(), du.data(), int64_t(n), kdtype::f32),
            KSTATUS_OK);
  EXPECT_EQ(dg.download(), separate.outs[0]);
  EXPECT_EQ(du.download(), separate.outs[1]);
}

// ---- ReLU
TEST(EmuRelu, MatchesTheCpuBackendExactlyAndPropagatesNaN) {
  for (const DtypeCase& c : kDtypes)
    for (bool bwd : {false, true})
      for (size_t n : {size_t(1), size_t(9), size_t(4099)})
        for (size_t offset : {size_t(0), size_t(1)}) {
          auto x = wpm_test::random_values(n, uint32_t(n), -2.0f, 2.0f, c.wpm);
          x[0] = 0.0f;
          if (n > 3) x[3] = std::numeric_limits<float>::quiet_NaN();
          const auto d = wpm_test::random_values(n, uint32_t(n + 1), -2.0f, 2.0f, c.wpm);
          DeviceArray dx(c.kd, x, offset), dd(c.kd, d, offset), out(c.kd, n, offset);
          out.poison();
          ASSERT_EQ(bwd ? relu_bwd(nullptr, dd.data(), dx.data(), out.data(), int64_t(n), c.kd)
                        : relu_fwd(nullptr, dx.data(), out.data(), int64_t(n), c.kd),
                    KSTATUS_OK);
          Context ctx;
          Buffer bx(ctx, c.wpm, x), bd(ctx, c.wpm, d), bo(ctx, c.wpm, n);
          ASSERT_EQ(bwd ? wpm_relu_bwd(ctx, bd, bx, bo, int64_t(n)) : wpm_relu_fwd(ctx, bx, bo, int64_t(n)), WPM_OK);
          const auto got = out.download(), cpu = bo.download();
          for (size_t i = 0; i < n; ++i) {
            const float want = bwd ? (x[i] > 0 ? d[i] : 0.0f) : (x[i] > 0 || std::isnan(x[i]) ? x[i] : 0.0f);
            if (std::isnan(want)) {
              EXPECT_TRUE(std::isnan(got[i]) && std::isnan(cpu[i])) << i;
            } else {
              EXPECT_EQ(got[i], want) << wpm_test::dtype_label(c.wpm) << (bwd ? " bwd" : " fwd") << " i=" << i;
              EXPECT_EQ(cpu[i], want) << i;
            }
          }
        }
}

TEST(EmuRelu, BitwiseIdenticalInEverySchedule) {
  const auto x = wpm_test::random_values(4099, 8), d = wpm_test::random_values(4099, 9);
  for (const DtypeCase& c : kDtypes)
    emu_test::expect_same_bits_in_every_schedule(
        [&] {
          DeviceArray dx(c.kd, x), dd(c.kd, d), out(c.kd, x.size());
          out.poison();
          EXPECT_EQ(relu_bwd(nullptr, dd.data(), dx.data(), out.data(), int64_t(x.size()), c.kd), KSTATUS_OK);
          return out.bytes();
        },
        "relu");
}

// ---- cast: every direction, bit-exact against the CPU backend (both round to nearest even).
TEST(EmuCast, EveryDirectionMatchesTheCpuBackendBitwise) {
  for (size_t n : {size_t(1), size_t(7), size_t(3001)})
    for (const DtypeCase& from : kDtypes)
      for (const DtypeCase& to : kDtypes) {
        auto x = wpm_test::random_values(n, uint32_t(n), -70000.0f, 70000.0f, from.wpm);
        if (n > 5) {
          x[1] = 1e-6f;  // f16 subnormal
          x[2] = std::numeric_limits<float>::infinity();
          x[3] = std::numeric_limits<float>::quiet_NaN();
          x[4] = 65519.0f;  // rounds to f16 max
          for (int k = 1; k <= 4; ++k) x[k] = wpm_test::round_to(from.wpm, x[k]);
        }
        DeviceArray src(from.kd, x), dst(to.kd, n);
        dst.poison();
        ASSERT_EQ(cast_dtype(nullptr, src.data(), from.kd, dst.data(), to.kd, int64_t(n)), KSTATUS_OK) << klast_error();
        Context ctx;
        Buffer bs(ctx, from.wpm, x), bd(ctx, to.wpm, n);
        ASSERT_EQ(wpm_cast(ctx, bs, bd, int64_t(n)), WPM_OK) << wpm_last_error();
        const auto got = dst.download(), cpu = bd.download();
        for (size_t i = 0; i < n; ++i) {
          if (std::isnan(cpu[i])) {
            EXPECT_TRUE(std::isnan(got[i])) << i;
          } else {
            EXPECT_EQ(got[i], cpu[i]) << wpm_test::dtype_label(from.wpm) << " -> " << wpm_test::dtype_label(to.wpm)
                                      << " i=" << i << " x=" << x[i];
            EXPECT_EQ(got[i], wpm_test::round_to(to.wpm, x[i])) << i;
          }
        }
      }
}

TEST(EmuCast, RejectsOverlapAndChecksItsArguments) {
  DeviceArray a(kdtype::f32, 64);
  EXPECT_EQ(cast_dtype(nullptr, a.data(), kdtype::f32, a.as<char>() + 8, kdtype::f16, 32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("overlap"), std::string::npos) << klast_error();
  EXPECT_EQ(cast_dtype(nullptr, a.data(), kdtype::f32, a.data(), kdtype::f32, 64), KSTATUS_OK);
  EXPECT_EQ(cast_dtype(nullptr, a.data(), kdtype::f32, nullptr, kdtype::f16, 4), KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(cast_dtype(nullptr, a.data(), kdtype::f32, a.data(), kdtype::f16, -1), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("n = -1"), std::string::npos) << klast_error();
}

}  // namespace
