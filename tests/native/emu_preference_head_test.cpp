// kernels/preference_head.cu under the emulator: the forward and backward launches give the
// same bits in every schedule (poisoned shared memory, reordered warps and blocks), for every
// dtype and activation, over several row tiles and unit chunks; and each direction is one launch.
#include <gtest/gtest.h>

#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;

struct Case {
  int64_t rows, d, h;
  bool weighted;
};

std::vector<uint8_t> run(const Case& c, kdtype dtype, head_act act, uint32_t seed) {
  using wpm_test::random_values;
  const size_t rows = size_t(c.rows), d = size_t(c.d), h = size_t(c.h), pairs = rows / 2;
  DeviceArray x(dtype, random_values(rows * d, seed)), g(dtype, random_values(d, seed + 1, 0.5f, 1.5f));
  DeviceArray w1(dtype, random_values(h * d, seed + 2, -0.2f, 0.2f)), b1(dtype, random_values(h, seed + 3));
  DeviceArray w2(dtype, random_values(h, seed + 4)), b2(dtype, random_values(1, seed + 5));
  DeviceArray weights(kdtype::f32, random_values(pairs, seed + 6, 0.0f, 2.0f));
  DeviceArray rewards(kdtype::f32, rows), saved(kdtype::f32, rows * (h + 1)), loss(kdtype::f32, 1);
  DeviceArray drewards(kdtype::f32, rows), dx(dtype, rows * d);
  DeviceArray dg(dtype, random_values(d, seed + 7)), dw1(dtype, random_values(h * d, seed + 8));
  DeviceArray db1(dtype, random_values(h, seed + 9)), dw2(dtype, random_values(h, seed + 10));
  DeviceArray db2(dtype, random_values(1, seed + 11));
  for (DeviceArray* a : {&rewards, &saved, &loss, &drewards, &dx}) a->poison();
  kpreference_head p{};
  p.rows = c.rows, p.d = c.d, p.h = c.h, p.pairs = int64_t(pairs), p.act = act;
  p.eps = 1e-6f, p.margin = 0.1f, p.dloss = 1.0f;
  p.x = x.data(), p.norm_weight = g.data(), p.w1 = w1.data(), p.b1 = b1.data(), p.w2 = w2.data(), p.b2 = b2.data();
  p.weights = c.weighted ? weights.as<float>() : nullptr;
  p.rewards = rewards.as<float>(), p.saved = saved.as<float>(), p.loss = loss.as<float>();
  p.drewards = drewards.as<float>(), p.dx = dx.data(), p.dnorm_weight = dg.data(), p.dw1 = dw1.data();
  p.db1 = db1.data(), p.dw2 = dw2.data(), p.db2 = db2.data();
  p.dtype = dtype;
  EXPECT_EQ(preference_head_fwd(nullptr, p), KSTATUS_OK) << klast_error();
  EXPECT_EQ(preference_head_bwd(nullptr, p), KSTATUS_OK) << klast_error();
  std::vector<uint8_t> bytes;
  for (const DeviceArray* a : {&rewards, &saved, &loss, &drewards, &dx, &dg, &dw1, &db1, &dw2, &db2}) {
    const auto b = a->bytes();
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
  return bytes;
}

TEST(EmuPreferenceHead, BitwiseIdenticalInEverySchedule) {
  uint32_t seed = 1;
  for (const emu_test::DtypeCase& dt : emu_test::kDtypes)
    for (head_act act : {head_act::gelu_tanh, head_act::gelu_exact, head_act::relu}) {
      const Case c{6, 19, 11, true};
      emu_test::expect_same_bits_in_every_schedule([&] { return run(c, dt.kd, act, seed); },
                                                    "preference_head " + std::to_string(int(act)));
      seed += 13;
    }
}

TEST(EmuPreferenceHead, BitwiseIdenticalOverTilesAndChunks) {
  // 66 rows: three row tiles; h = 260: two unit chunks; d = 300: two column groups.
  const Case c{66, 300, 260, false};
  emu_test::expect_same_bits_in_every_schedule([&] { return run(c, kdtype::bf16, head_act::gelu_tanh, 5); },
                                               "preference_head tiles");
}

TEST(EmuPreferenceHead, BadLaunchArgumentsAreReported) {
  kpreference_head p{};
  p.rows = 4, p.d = 8, p.h = 0, p.dtype = kdtype::f32;
  EXPECT_EQ(preference_head_fwd(nullptr, p), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("h = 0"), std::string::npos) << klast_error();
  p.h = 4, p.pairs = 3;
  EXPECT_EQ(preference_head_bwd(nullptr, p), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("pairs = 3"), std::string::npos) << klast_error();
}

}  // namespace
