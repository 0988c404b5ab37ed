// kernels/bt_loss.cu under the emulator: loss and gradients against float64
// formulas and the CPU backend, with and without weights and margin, at large
// |delta| (stability), outputs poisoned, the same bits in every schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;
using wpm_test::Buffer;
using wpm_test::Context;

struct Pairs {
  std::vector<float> chosen, rejected, weights;  // weights empty: none
  float margin;
};

Pairs make_pairs(size_t p, uint32_t seed, bool weighted, float margin, float spread = 4.0f) {
  Pairs in{wpm_test::random_values(p, seed, -spread, spread), wpm_test::random_values(p, seed + 1, -spread, spread),
           weighted ? wpm_test::random_values(p, seed + 2, 0.0f, 2.0f) : std::vector<float>{}, margin};
  return in;
}

struct Result {
  float loss;
  std::vector<float> dchosen, drejected;
  std::vector<uint8_t> bytes;
};

Result run_emu(const Pairs& in, float dloss) {
  const size_t p = in.chosen.size();
  DeviceArray c(kdtype::f32, in.chosen), r(kdtype::f32, in.rejected), w(kdtype::f32, in.weights);
  DeviceArray loss(kdtype::f32, 1), dc(kdtype::f32, p), dr(kdtype::f32, p);
  loss.poison();
  dc.poison();
  dr.poison();
  const float* weights = in.weights.empty() ? nullptr : w.as<float>();
  EXPECT_EQ(bt_loss_fwd(nullptr, c.as<float>(), r.as<float>(), weights, loss.as<float>(), int64_t(p), in.margin),
            KSTATUS_OK)
      << klast_error();
  EXPECT_EQ(bt_loss_bwd(nullptr, c.as<float>(), r.as<float>(), weights, dc.as<float>(), dr.as<float>(), int64_t(p),
                        in.margin, dloss),
            KSTATUS_OK)
      << klast_error();
  Result out{loss.download()[0], dc.download(), dr.download(), loss.bytes()};
  for (const DeviceArray* a : {&dc, &dr}) {
    const auto b = a->bytes();
    out.bytes.insert(out.bytes.end(), b.begin(), b.end());
  }
  return out;
}

Result run_cpu(const Pairs& in, float dloss) {
  Context ctx;
  const size_t p = in.chosen.size();
  Buffer c(ctx, WPM_F32, in.chosen), r(ctx, WPM_F32, in.rejected), loss(ctx, WPM_F32, 1), dc(ctx, WPM_F32, p),
      dr(ctx, WPM_F32, p);
  Buffer w(ctx, WPM_F32, in.weights.empty() ? std::vector<float>{1.0f} : in.weights);
  wpm_bt_loss_params params{};
  params.struct_size = sizeof(params);
  params.pairs = int64_t(p);
  params.margin = in.margin;
  params.chosen = c;
  params.rejected = r;
  params.weights = in.weights.empty() ? nullptr : w.get();
  params.loss = loss;
  params.dloss = dloss;
  params.dchosen = dc;
  params.drejected = dr;
  EXPECT_EQ(wpm_bt_loss_fwd(ctx, &params), WPM_OK) << wpm_last_error();
  EXPECT_EQ(wpm_bt_loss_bwd(ctx, &params), WPM_OK) << wpm_last_error();
  return Result{loss.download()[0], dc.download(), dr.download(), {}};
}

Result reference(const Pairs& in, float dloss) {
  const size_t p = in.chosen.size();
  double num = 0, den = 0;
  std::vector<double> delta(p);
  for (size_t i = 0; i < p; ++i) {
    const double w = in.weights.empty() ? 1.0 : in.weights[i];
    delta[i] = double(in.chosen[i]) - in.rejected[i] - in.margin;
    num += w * std::log1p(std::exp(-delta[i]));
    den += w;
  }
  Result r{float(num / den), std::vector<float>(p), std::vector<float>(p), {}};
  for (size_t i = 0; i < p; ++i) {
    const double w = in.weights.empty() ? 1.0 : in.weights[i];
    const double g = dloss * w * (1 / (1 + std::exp(-delta[i])) - 1) / den;
    r.dchosen[i] = float(g);
    r.drejected[i] = float(-g);
  }
  return r;
}

std::vector<double> as_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

TEST(EmuBtLoss, MatchesFloat64AndTheCpuBackend) {
  for (size_t p : {size_t(1), size_t(31), size_t(1000), size_t(5003)})
    for (bool weighted : {false, true})
      for (float margin : {0.0f, 0.5f}) {
        const Pairs in = make_pairs(p, uint32_t(p * 3 + weighted), weighted, margin);
        const Result got = run_emu(in, 0.75f), cpu = run_cpu(in, 0.75f), ref = reference(in, 0.75f);
        const std::string label = "P=" + std::to_string(p) + (weighted ? " weighted" : "") + " margin " +
                                  std::to_string(margin);
        EXPECT_LT(std::fabs(got.loss - ref.loss), 1e-5 * std::fabs(ref.loss)) << label;
        EXPECT_LT(std::fabs(got.loss - cpu.loss), 1e-5 * std::fabs(cpu.loss)) << label;
        EXPECT_LT(wpm_test::rel_error(got.dchosen, as_double(ref.dchosen)), 1e-5) << label;
        EXPECT_LT(wpm_test::rel_error(got.drejected, as_double(cpu.drejected)), 1e-5) << label;
      }
}

// |delta| of hundreds: the softplus and sigmoid - 1 forms stay finite and accurate.
TEST(EmuBtLoss, LargeMarginsStayFiniteAndAccurate) {
  const Pairs in{{300.0f, -300.0f, 20.0f, -20.0f}, {0.0f, 0.0f, 0.0f, 0.0f}, {}, 0.0f};
  const Result got = run_emu(in, 1.0f), ref = reference(in, 1.0f);
  EXPECT_LT(std::fabs(got.loss - ref.loss), 1e-6 * ref.loss) << got.loss << " vs " << ref.loss;
  for (size_t i = 0; i < 4; ++i)
    EXPECT_LE(std::fabs(got.dchosen[i] - ref.dchosen[i]), 1e-6 * std::fabs(ref.dchosen[i])) << i;
  EXPECT_GT(-got.dchosen[2], 0.0f) << "sigmoid(20) - 1 must not cancel to 0";
}

TEST(EmuBtLoss, BitwiseIdenticalInEverySchedule) {
  for (bool weighted : {false, true}) {
    const Pairs in = make_pairs(4099, 11, weighted, 0.25f);
    emu_test::expect_same_bits_in_every_schedule([&] { return run_emu(in, 1.0f).bytes; }, "bt_loss");
  }
}

TEST(EmuBtLoss, LauncherChecksItsArguments) {
  float v = 0.0f;
  EXPECT_EQ(bt_loss_fwd(nullptr, &v, &v, nullptr, &v, 0, 0.0f), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("pairs = 0"), std::string::npos) << klast_error();
  EXPECT_EQ(bt_loss_bwd(nullptr, &v, &v, nullptr, nullptr, &v, 1, 0.0f, 1.0f), KSTATUS_INVALID_ARGUMENT);
}

}  // namespace
