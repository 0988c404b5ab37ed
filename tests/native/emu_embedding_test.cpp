// kernels/embedding.cu under the emulator: gather and deterministic
// scatter-add against the CPU backend (bit-exact: both sum each id's rows in
// token order in fp32 and add once) and float64, repeated ids, every output
// element written (poisoned first), NaN rows for bad ids, and the same bits in
// every schedule.
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

std::vector<uint8_t> embedding_emu(const DtypeCase& c, bool bwd, const std::vector<int32_t>& ids,
                                   const std::vector<float>& table, const std::vector<float>& dout, int64_t vocab,
                                   int64_t cols, std::vector<float>* values) {
  const int64_t n = int64_t(ids.size());
  DeviceArray dids(ids), dtable(c.kd, table), ddout(c.kd, dout), out(c.kd, size_t(n * cols));
  out.poison();
  const kstatus s = bwd ? embedding_bwd(nullptr, dids.as<int32_t>(), ddout.data(), dtable.data(), n, vocab, cols, c.kd)
                        : embedding_fwd(nullptr, dids.as<int32_t>(), dtable.data(), out.data(), n, vocab, cols, c.kd);
  EXPECT_EQ(s, KSTATUS_OK) << klast_error();
  const DeviceArray& result = bwd ? dtable : out;
  if (values) *values = result.download();
  return result.bytes();
}

TEST(EmuEmbedding, MatchesTheCpuBackendAndFloat64) {
  const int64_t vocab = 11;
  // Repeated ids (3 eleven times: a padding token), ids never used, and the last id.
  std::vector<int32_t> ids = {3, 7, 3, 0, 10, 3, 7};
  for (int i = 0; i < 9; ++i) ids.push_back(3);
  const int64_t n = int64_t(ids.size());
  for (int64_t cols : {int64_t(1), int64_t(45), int64_t(300)})
    for (const DtypeCase& c : kDtypes)
      for (bool bwd : {false, true}) {
        const auto table = wpm_test::random_values(size_t(vocab * cols), uint32_t(cols), -2.0f, 2.0f, c.wpm);
        const auto dout = wpm_test::random_values(size_t(n * cols), uint32_t(cols + 1), -1.0f, 1.0f, c.wpm);
        std::vector<float> got;
        embedding_emu(c, bwd, ids, table, dout, vocab, cols, &got);
        Context ctx;
        Buffer bids(ctx, WPM_I32, ids.size()), btable(ctx, c.wpm, table), bdout(ctx, c.wpm, dout),
            bout(ctx, c.wpm, size_t(n * cols));
        bids.upload_i32(ids);
        ASSERT_EQ(bwd ? wpm_embedding_bwd(ctx, bids, bdout, btable, n, vocab, cols)
                      : wpm_embedding_fwd(ctx, bids, btable, bout, n, vocab, cols),
                  WPM_OK)
            << wpm_last_error();
        const std::vector<float> cpu = bwd ? btable.download() : bout.download();
        const std::string label = std::string(wpm_test::dtype_label(c.wpm)) + (bwd ? " bwd" : " fwd") +
                                  " c=" + std::to_string(cols);
        // Both sum each id's rows in token order in fp32 and add once: the same bits.
        EXPECT_EQ(got, cpu) << label;
        std::vector<double> ref(table.begin(), table.end());
        if (bwd) {
          for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < cols; ++j) ref[size_t(ids[size_t(i)] * cols + j)] += dout[size_t(i * cols + j)];
        } else {
          ref.resize(size_t(n * cols));
          for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < cols; ++j) ref[size_t(i * cols + j)] = table[size_t(ids[size_t(i)] * cols + j)];
        }
        EXPECT_LT(wpm_test::rel_error(got, ref), wpm_test::tolerance(c.wpm, true)) << label << " vs float64";
      }
}

TEST(EmuEmbedding, BitwiseIdenticalInEverySchedule) {
  std::vector<int32_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(int32_t(i * 7 % 5));
  const auto table = wpm_test::random_values(5 * 270, 1), dout = wpm_test::random_values(40 * 270, 2);
  for (const DtypeCase& c : kDtypes)
    emu_test::expect_same_bits_in_every_schedule(
        [&] { return embedding_emu(c, true, ids, table, dout, 5, 270, nullptr); }, "embedding bwd");
}

TEST(EmuEmbedding, BadIdGivesANaNRowAndIsSkippedByTheBackward) {
  const std::vector<int32_t> ids = {1, -1, 2};
  const auto table = wpm_test::random_values(2 * 4, 1), dout = wpm_test::random_values(3 * 4, 2);
  std::vector<float> out, dtable;
  embedding_emu(kDtypes[0], false, ids, table, dout, 2, 4, &out);
  embedding_emu(kDtypes[0], true, ids, table, dout, 2, 4, &dtable);
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(out[size_t(j)], table[size_t(4 + j)]);
    EXPECT_TRUE(std::isnan(out[size_t(4 + j)]) && std::isnan(out[size_t(8 + j)]));
    EXPECT_EQ(dtable[size_t(j)], table[size_t(j)]);
    EXPECT_EQ(dtable[size_t(4 + j)], table[size_t(4 + j)] + dout[size_t(j)]);
  }
}

}  // namespace
