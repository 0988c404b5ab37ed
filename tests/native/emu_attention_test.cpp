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

#include "emu_attention_harness.h"
#include "emu_test_util.h"
#include "test_util.h"

namespace {

using namespace attention_test;

void check_against_references(const Shape& s, uint32_t seed) { check_fwd(attention_fwd, s, kHalf, seed); }

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
      const Inputs in = make_fwd_inputs(s, c.wpm, 6);
      std::vector<uint8_t> first;
      for (bool defer : {true, false})
        for (const auto& sched : emu_test::schedules()) {
          emu_test::ConfigScope scope(sched);
          emu::Config config = emu::config();
          config.defer_cp_async = defer;
          scope.set(config);
          const FwdOutputs o = run_emu_fwd(attention_fwd, s, c, in);
          const std::string name = std::string(sched.name) + (defer ? " deferred" : " eager");
          if (first.empty()) {
            first = o.bytes;
            std::vector<double> ref_out, ref_lse;
            reference_fwd(s, in, ref_out, ref_lse);
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
