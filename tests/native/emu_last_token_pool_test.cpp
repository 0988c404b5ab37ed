// kernels/last_token_pool.cu under the emulator: bit-exact against the CPU
// backend (rows move as stored), left and right padding, every element of the
// outputs written (poisoned first), NaN rows for bad lengths instead of wild
// reads, and the same bits in every schedule.
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

std::vector<uint8_t> pool_emu(const DtypeCase& c, bool bwd, const std::vector<float>& in,
                              const std::vector<int32_t>& lengths, int64_t t, int64_t cols, kpadding padding,
                              std::vector<float>* values) {
  const int64_t b = int64_t(lengths.size());
  DeviceArray src(c.kd, in), len(lengths), out(c.kd, size_t(bwd ? b * t * cols : b * cols));
  out.poison();
  const kstatus s = bwd ? last_token_pool_bwd(nullptr, src.data(), len.as<int32_t>(), out.data(), b, t, cols, padding, c.kd)
                        : last_token_pool_fwd(nullptr, src.data(), len.as<int32_t>(), out.data(), b, t, cols, padding, c.kd);
  EXPECT_EQ(s, KSTATUS_OK) << klast_error();
  if (values) *values = out.download();
  return out.bytes();
}

TEST(EmuLastTokenPool, MatchesTheCpuBackendExactly) {
  const int64_t t = 9;
  const std::vector<int32_t> lengths = {9, 1, 4, 7, 2};
  const int64_t b = int64_t(lengths.size());
  for (int64_t cols : {int64_t(1), int64_t(37), int64_t(300)})
    for (const DtypeCase& c : kDtypes)
      for (kpadding padding : {kpadding::right, kpadding::left})
        for (bool bwd : {false, true}) {
          const auto in = wpm_test::random_values(size_t(bwd ? b * cols : b * t * cols), uint32_t(cols), -2.0f, 2.0f, c.wpm);
          std::vector<float> got;
          pool_emu(c, bwd, in, lengths, t, cols, padding, &got);
          Context ctx;
          Buffer bin(ctx, c.wpm, in), blen(ctx, WPM_I32, lengths.size()), bout(ctx, c.wpm, got.size());
          blen.upload_i32(lengths);
          const wpm_padding p = padding == kpadding::left ? WPM_PAD_LEFT : WPM_PAD_RIGHT;
          ASSERT_EQ(wpm_test::last_token_pool(ctx, bwd, bin, blen, bout, b, t, cols, p), WPM_OK) << wpm_last_error();
          EXPECT_EQ(got, bout.download()) << wpm_test::dtype_label(c.wpm) << (bwd ? " bwd" : " fwd") << " c=" << cols
                                          << (padding == kpadding::left ? " left" : " right");
        }
}

TEST(EmuLastTokenPool, BadLengthGivesNaNRowsNotAWildRead) {
  const std::vector<int32_t> lengths = {3, 0, 99};
  const auto hidden = wpm_test::random_values(3 * 4 * 8, 1);
  std::vector<float> out;
  pool_emu(kDtypes[0], false, hidden, lengths, 4, 8, kpadding::right, &out);
  for (int j = 0; j < 8; ++j) {
    EXPECT_EQ(out[size_t(j)], hidden[size_t(2 * 8 + j)]);
    EXPECT_TRUE(std::isnan(out[size_t(8 + j)]) && std::isnan(out[size_t(16 + j)])) << j;
  }
}

TEST(EmuLastTokenPool, BitwiseIdenticalInEverySchedule) {
  const std::vector<int32_t> lengths = {5, 1, 3};
  const auto dout = wpm_test::random_values(3 * 260, 2);
  for (const DtypeCase& c : kDtypes)
    emu_test::expect_same_bits_in_every_schedule(
        [&] { return pool_emu(c, true, dout, lengths, 5, 260, kpadding::right, nullptr); }, "last_token_pool bwd");
}

}  // namespace
