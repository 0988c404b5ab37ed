// kernels/attention_generic.cu (attention_generic_fwd / attention_generic_bwd, the CUDA-core attention for
// every dtype and head dim) run through the emulator: out, lse, dq, dk, dv against a float64 reference and
// against the CPU backend through the C ABI (an independent implementation, on the same rounded values),
// in f32, f16 and bf16, D 1, 8, 17, 64, 80, 128 and 256 (every per-lane width, dims past D in a lane's last
// strip), T not a multiple of the 4 rows of a block nor of the 4-key chunks, length-1 sequences, right and
// left padding, GQA groups 1, 2 and 4. Outputs and the workspace are poisoned (NaN) first and the padding
// rows of every input hold NaN (never read); padding rows of the outputs must come back exactly 0. Results
// must be bitwise identical in every schedule (forward, reverse, greedy, two random seeds).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "emu_attention_harness.h"
#include "emu_test_util.h"

namespace {

using namespace attention_test;

constexpr std::initializer_list<emu_test::DtypeCase> kAll = {
    {WPM_F32, kdtype::f32}, {WPM_F16, kdtype::f16}, {WPM_BF16, kdtype::bf16}};
constexpr int64_t kDims[] = {1, 8, 17, 64, 80, 128, 256};

// Forward and backward of one shape in every dtype; the worst relative errors vs float64 go to stdout for
// the record (the tolerances in check_fwd / check_bwd decide).
void check_both(const Shape& s, uint32_t seed) {
  std::string line;
  for (const auto& c : kAll) {
    const double fwd = check_fwd(attention_generic_fwd, s, {c}, seed);
    const double bwd = check_bwd(kGenericBwd, s, {c}, seed + 100);
    char buf[80];
    std::snprintf(buf, sizeof buf, " %s out %.1e grads %.1e", wpm_test::dtype_label(c.wpm), fwd, bwd);
    line += buf;
  }
  const std::string label = s.label(*kAll.begin());
  std::printf("  %s:%s\n", label.substr(label.find(' ') + 1).c_str(), line.c_str());
}

TEST(EmuAttentionGeneric, SingleTokenSequenceEveryHeadDim) {
  for (int64_t d : kDims) check_both({1, 1, 2, 1, d, kpadding::right, {}}, 1);
}

// Two sequences, the second short, T = 19 (a tail in both the row blocks and the key chunks); the padding
// side and the GQA group change with D so that every width meets both paddings and a group of 2.
TEST(EmuAttentionGeneric, EveryHeadDimWithTailsAndPadding) {
  int n = 0;
  for (int64_t d : kDims) {
    const kpadding pad = n % 2 ? kpadding::left : kpadding::right;
    const int64_t kvh = n % 3 == 0 ? 2 : 1;
    check_both({2, 19, 2 * kvh, kvh, d, pad, {19, 6}}, uint32_t(10 + n++));
  }
}

TEST(EmuAttentionGeneric, LeftPaddingGqa4WithALengthOneSequence) {
  for (int64_t d : {17, 80}) check_both({3, 21, 4, 1, d, kpadding::left, {21, 1, 13}}, 30);
}

TEST(EmuAttentionGeneric, RightPaddingLengthOneInAFullBatchGqa2) {
  check_both({2, 12, 4, 2, 64, kpadding::right, {1, 12}}, 31);
}

TEST(EmuAttentionGeneric, LongerSequenceWithAnExplicitScale) {
  check_both({1, 70, 2, 1, 24, kpadding::right, {67}, 0.3f}, 32);
}

// Forward and backward bytes are the same in the five schedules (greedy, reverse and random reorder the
// lanes between the shuffles of every warp reduction).
TEST(EmuAttentionGeneric, BitwiseIdenticalInEverySchedule) {
  const Shape shapes[] = {{2, 17, 4, 2, 80, kpadding::left, {17, 9}}, {1, 18, 2, 1, 17, kpadding::right, {13}}};
  for (const Shape& s : shapes)
    for (const auto& c : kAll) {
      const std::string label = s.label(c);
      const Inputs in = make_bwd_inputs(attention_generic_fwd, s, c, 40);
      emu_test::expect_same_bits_in_every_schedule([&] { return run_emu_fwd(attention_generic_fwd, s, c, in).bytes; },
                                                   label + " forward");
      emu_test::expect_same_bits_in_every_schedule([&] { return run_emu_bwd(kGenericBwd, s, c, in).bytes; },
                                                   label + " backward");
    }
}

TEST(EmuAttentionGeneric, LaunchersCheckTheirArguments) {
  alignas(16) float buf[8] = {};
  float* lse = buf;
  auto fwd = [&](const void* q, int64_t h, int64_t kvh, int64_t d, kdtype dtype) {
    return attention_generic_fwd(nullptr, q, buf, buf, nullptr, buf, lse, 1, 1, h, kvh, d, 0, kpadding::right, dtype);
  };
  auto expect = [](kstatus status, const char* word) {
    EXPECT_EQ(status, KSTATUS_INVALID_ARGUMENT);
    EXPECT_NE(std::string(klast_error()).find(word), std::string::npos) << klast_error();
  };
  expect(fwd(buf, 1, 1, 0, kdtype::f32), "d = 0");
  expect(fwd(buf, 1, 1, 257, kdtype::f16), "d = 257");
  expect(fwd(buf, 3, 2, 64, kdtype::f32), "not a multiple");
  expect(fwd(buf, 1, 1, 64, kdtype(7)), "unknown dtype");
  expect(fwd(reinterpret_cast<const char*>(buf) + 2, 1, 1, 64, kdtype::f32), "aligned");
  expect(fwd(nullptr, 1, 1, 64, kdtype::bf16), "null");
  EXPECT_EQ(attention_generic_fwd(nullptr, buf, buf, buf, nullptr, buf, lse, 1, 1, 1, 1, 8, 0, kpadding(2),
                                  kdtype::f32),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(attention_generic_bwd(nullptr, buf, buf, buf, buf, lse, buf, buf, buf, buf, nullptr, nullptr, 1, 1, 1, 1,
                                  8, 0, kpadding::right, kdtype::f32),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("null"), std::string::npos) << klast_error();
  EXPECT_EQ(attention_generic_bwd_workspace_bytes(2, 5, 3), 2 * 5 * 3 * 4);
}

}  // namespace
