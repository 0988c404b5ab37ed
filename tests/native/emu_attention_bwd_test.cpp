// kernels/attention.cu (attention_bwd) run through the emulator: dq, dk, dv
// against a float64 reference and against the CPU backend's
// wpm_attention_bwd (an independent implementation, through the C ABI, on the
// same f16/bf16 values), for f16 and bf16, D 64 and 128, T not a multiple of
// the 64-row tiles, length-1 sequences, right and left padding, GQA ratios 1,
// 2 and 4. out and lse come from the emulated forward. Outputs and the
// workspace are poisoned first, and the padding rows of q, k, v, out and dout
// hold NaN (never read); padding rows of dq, dk, dv must come back exactly 0.
// Results must be bitwise identical in every schedule, with cp.async
// delivered late (the default) and eagerly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "emu_attention_harness.h"
#include "emu_test_util.h"
#include "test_util.h"

namespace {

using namespace attention_test;

void check_against_references(const Shape& s, uint32_t seed) { check_bwd(kTensorCoreBwd, s, kHalf, seed); }

TEST(EmuAttentionBwd, SingleTokenSequence) {
  for (int64_t d : {64, 128}) check_against_references({1, 1, 2, 1, d, kpadding::right, {}}, 11);
}

TEST(EmuAttentionBwd, RightPaddingWithATail) {
  for (int64_t d : {64, 128}) check_against_references({2, 17, 2, 2, d, kpadding::right, {17, 5}}, 12);
}

TEST(EmuAttentionBwd, LeftPaddingGqa4) {
  for (int64_t d : {64, 128}) check_against_references({2, 100, 4, 1, d, kpadding::left, {100, 37}}, 13);
}

TEST(EmuAttentionBwd, LengthOneInAFullTileGqa2) {
  for (int64_t d : {64, 128})
    for (kpadding pad : {kpadding::right, kpadding::left})
      check_against_references({2, 64, 4, 2, d, pad, {1, 64}}, 14);
}

TEST(EmuAttentionBwd, SeveralKeyTilesWithAnExplicitScale) {
  check_against_references({2, 150, 2, 1, 64, kpadding::right, {150, 131}, 0.07f}, 15);
}

// Every schedule, with late (default) and eager cp.async delivery, gives the first schedule's bytes.
TEST(EmuAttentionBwd, BitwiseIdenticalInEverySchedule) {
  const Shape shapes[] = {{1, 140, 2, 1, 64, kpadding::left, {130}}, {1, 100, 2, 2, 128, kpadding::right, {90}}};
  for (const Shape& s : shapes)
    for (const auto& c : kHalf) {
      const Inputs in = make_bwd_inputs(attention_fwd, s, c, 16);
      std::vector<uint8_t> first;
      for (bool defer : {true, false})
        for (const auto& sched : emu_test::schedules()) {
          emu_test::ConfigScope scope(sched);
          emu::Config config = emu::config();
          config.defer_cp_async = defer;
          scope.set(config);
          const Grads g = run_emu_bwd(kTensorCoreBwd, s, c, in);
          const std::string name = std::string(sched.name) + (defer ? " deferred" : " eager");
          if (first.empty()) {
            first = g.bytes;
            std::vector<double> dq, dk, dv;
            reference_bwd(s, in, dq, dk, dv);
            EXPECT_LT(wpm_test::rel_error(g.dq, dq), 1e-2) << s.label(c) << " " << name;
            EXPECT_LT(wpm_test::rel_error(g.dk, dk), 1e-2) << s.label(c) << " " << name;
            EXPECT_LT(wpm_test::rel_error(g.dv, dv), 1e-2) << s.label(c) << " " << name;
          } else {
            EXPECT_EQ(g.bytes, first) << s.label(c) << ": " << name << " differs from the first schedule";
          }
        }
    }
}

TEST(EmuAttentionBwd, LauncherChecksItsArguments) {
  alignas(16) uint16_t buf[8] = {};
  float lse = 0, work = 0;
  auto call = [&](const void* q, int64_t h, int64_t kvh, int64_t d, kdtype dtype) {
    return attention_bwd(nullptr, q, buf, buf, buf, &lse, buf, buf, buf, buf, &work, nullptr, 1, 1, h, kvh, d, 0,
                         kpadding::right, dtype);
  };
  EXPECT_EQ(call(buf, 1, 1, 32, kdtype::f16), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("d = 32"), std::string::npos) << klast_error();
  EXPECT_EQ(call(buf, 3, 2, 64, kdtype::f16), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("not a multiple"), std::string::npos) << klast_error();
  EXPECT_EQ(call(buf, 1, 1, 64, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(call(buf + 1, 1, 1, 64, kdtype::f16), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("16-byte aligned"), std::string::npos) << klast_error();
  EXPECT_EQ(attention_bwd(nullptr, buf, buf, buf, buf, &lse, buf, buf, buf, buf, nullptr, nullptr, 1, 1, 1, 1, 64, 0,
                          kpadding::right, kdtype::f16),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("null"), std::string::npos) << klast_error();
}

}  // namespace
