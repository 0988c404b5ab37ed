// kernels/embedding.cu under the emulator: gather and deterministic
// scatter-add against the CPU backend (bit-exact: both sum each id's rows in
// token order in fp32 and add once) and float64, repeated ids, every output
// element written (poisoned first), NaN rows for bad ids, and the same bits in
// every schedule. The backward sorts the tokens by id (tiles of 1024, then
// merge passes), so the token counts below cross the tile and pass boundaries.
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
  // The sort's workspace starts poisoned: nothing may depend on what it held.
  DeviceArray workspace(kdtype::f32, size_t(embedding_bwd_workspace_bytes(n) / 4));
  workspace.poison();
  const kstatus s = bwd ? embedding_bwd(nullptr, dids.as<int32_t>(), ddout.data(), dtable.data(), workspace.data(), n,
                                        vocab, cols, c.kd)
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

// dtable + the float64 sum of each id's dout rows, from the definition.
std::vector<double> scatter_add_reference(const std::vector<int32_t>& ids, const std::vector<float>& table,
                                          const std::vector<float>& dout, int64_t cols) {
  std::vector<double> ref(table.begin(), table.end());
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t j = 0; j < cols; ++j) ref[size_t(ids[i] * cols + j)] += dout[i * size_t(cols) + size_t(j)];
  return ref;
}

TEST(EmuEmbedding, BackwardMatchesFloat64AndTheCpuBackendForThousandsOfTokens) {
  struct IdsCase {
    const char* name;
    int64_t n, vocab;
    int32_t (*id)(int64_t token, int64_t vocab);
  };
  const IdsCase cases[] = {
      {"all ids equal", 2500, 7, [](int64_t, int64_t) { return int32_t(5); }},
      {"all ids distinct, reversed", 3000, 3000, [](int64_t t, int64_t v) { return int32_t(v - 1 - t); }},
      {"many repeats", 3001, 13, [](int64_t t, int64_t) { return int32_t((t * 7 + t / 11) % 13); }},
      {"one tile exactly", 1024, 50, [](int64_t t, int64_t) { return int32_t((t * t) % 50); }},
      {"one token past a tile", 1025, 3, [](int64_t t, int64_t) { return int32_t(t % 3); }},
      {"one token", 1, 4, [](int64_t, int64_t) { return int32_t(3); }},
  };
  const int64_t cols = 40;
  for (const IdsCase& ic : cases)
    for (const DtypeCase& c : kDtypes) {
      std::vector<int32_t> ids(size_t(ic.n));
      for (int64_t t = 0; t < ic.n; ++t) ids[size_t(t)] = ic.id(t, ic.vocab);
      const auto table = wpm_test::random_values(size_t(ic.vocab * cols), 3, -2.0f, 2.0f, c.wpm);
      const auto dout = wpm_test::random_values(size_t(ic.n * cols), 4, -1.0f, 1.0f, c.wpm);
      std::vector<float> got;
      embedding_emu(c, true, ids, table, dout, ic.vocab, cols, &got);
      const std::string label = std::string(ic.name) + " " + wpm_test::dtype_label(c.wpm);
      EXPECT_LT(wpm_test::rel_error(got, scatter_add_reference(ids, table, dout, cols)),
                wpm_test::tolerance(c.wpm, true))
          << label << " vs float64";
      Context ctx;
      Buffer bids(ctx, WPM_I32, ids.size()), btable(ctx, c.wpm, table), bdout(ctx, c.wpm, dout);
      bids.upload_i32(ids);
      ASSERT_EQ(wpm_embedding_bwd(ctx, bids, bdout, btable, ic.n, ic.vocab, cols), WPM_OK) << wpm_last_error();
      // The CPU backend sums each id's rows in token order: the sorted segments keep that order.
      EXPECT_EQ(got, btable.download()) << label << " vs the CPU backend";
    }
}

TEST(EmuEmbedding, SortedBackwardIsBitwiseIdenticalInEveryScheduleAcrossMergePasses) {
  std::vector<int32_t> ids;
  for (int i = 0; i < 2300; ++i) ids.push_back(int32_t((i * 37 + i / 100) % 17));  // 3 tiles, 2 merge passes
  const auto table = wpm_test::random_values(17 * 24, 5), dout = wpm_test::random_values(2300 * 24, 6);
  for (const DtypeCase& c : kDtypes)
    emu_test::expect_same_bits_in_every_schedule(
        [&] { return embedding_emu(c, true, ids, table, dout, 17, 24, nullptr); }, "embedding bwd, 2300 tokens");
}

TEST(EmuEmbedding, BackwardWithoutAWorkspaceIsRefusedNamingIt) {
  DeviceArray ids(std::vector<int32_t>{0, 1}), dout(kdtype::f32, 2 * 4), dtable(kdtype::f32, 2 * 4);
  EXPECT_EQ(embedding_bwd(nullptr, ids.as<int32_t>(), dout.data(), dtable.data(), nullptr, 2, 2, 4, kdtype::f32),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("embedding_bwd: workspace is null"), std::string::npos) << klast_error();
}

}  // namespace
