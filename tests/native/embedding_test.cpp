// Embedding: the gather forward (exact row copies) and the scatter-add
// backward (accumulated onto a random dtable, repeated ids) against a float64
// reference in f32/f16/bf16 at odd widths over several threads, gradients vs
// finite differences, bit-for-bit determinism, out-of-range ids reported with
// index and value (and nothing written), and the argument checks.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;

constexpr wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};

struct Shape {
  int64_t n, vocab, c;
};
// Small vocabularies make ids repeat, so the backward sums several rows per id.
constexpr Shape kShapes[] = {{1, 1, 1}, {7, 3, 5}, {300, 50, 7}, {1000, 97, 301}, {64, 1000, 1031}};

std::vector<int32_t> random_ids(int64_t n, int64_t vocab, uint32_t seed) {
  std::vector<float> r = wpm_test::random_values(size_t(n), seed, 0, float(vocab));
  std::vector<int32_t> ids(r.size());
  for (size_t i = 0; i < r.size(); ++i) ids[i] = std::min<int32_t>(int32_t(r[i]), int32_t(vocab - 1));
  return ids;
}

// dtable0 + the dout rows added per id, in float64.
std::vector<double> ref_bwd(const std::vector<int32_t>& ids, const std::vector<float>& dout,
                            const std::vector<float>& dtable0, int64_t c) {
  std::vector<double> dtable(dtable0.begin(), dtable0.end());
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t j = 0; j < c; ++j) dtable[ids[i] * c + j] += dout[i * c + j];
  return dtable;
}

std::vector<float> run_fwd(wpm_context* ctx, wpm_dtype dtype, const std::vector<int32_t>& ids,
                           const std::vector<float>& table, Shape s) {
  Buffer bids(ctx, WPM_I32, ids.size()), bt(ctx, dtype, table), out(ctx, dtype, size_t(s.n * s.c));
  bids.upload_i32(ids);
  out.poison();
  EXPECT_EQ(wpm_embedding_fwd(ctx, bids, bt, out, s.n, s.vocab, s.c), WPM_OK) << wpm_last_error();
  return out.download();
}

std::vector<float> run_bwd(wpm_context* ctx, wpm_dtype dtype, const std::vector<int32_t>& ids,
                           const std::vector<float>& dout, const std::vector<float>& dtable0, Shape s) {
  Buffer bids(ctx, WPM_I32, ids.size()), bd(ctx, dtype, dout), dt(ctx, dtype, dtable0);
  bids.upload_i32(ids);
  EXPECT_EQ(wpm_embedding_bwd(ctx, bids, bd, dt, s.n, s.vocab, s.c), WPM_OK) << wpm_last_error();
  return dt.download();
}


TEST(Embedding, ForwardCopiesTheRows) {
  Context ctx(3);
  for (wpm_dtype dtype : kDtypes)
    for (Shape s : kShapes) {
      std::vector<int32_t> ids = random_ids(s.n, s.vocab, uint32_t(s.n + s.c));
      std::vector<float> table = wpm_test::random_values(size_t(s.vocab * s.c), uint32_t(s.c), -2, 2, dtype);
      std::vector<float> want(size_t(s.n * s.c));
      for (int64_t i = 0; i < s.n; ++i)
        for (int64_t j = 0; j < s.c; ++j) want[i * s.c + j] = table[ids[i] * s.c + j];
      EXPECT_EQ(run_fwd(ctx, dtype, ids, table, s), want) << wpm_test::dtype_label(dtype) << " c " << s.c;
    }
}

TEST(Embedding, BackwardAccumulatesIntoDtable) {
  Context ctx(3);
  for (wpm_dtype dtype : kDtypes)
    for (Shape s : kShapes) {
      std::vector<int32_t> ids = random_ids(s.n, s.vocab, uint32_t(2 * s.n + s.c));
      std::vector<float> dout = wpm_test::random_values(size_t(s.n * s.c), uint32_t(s.c + 1), -1, 1, dtype);
      std::vector<float> dtable0 = wpm_test::random_values(size_t(s.vocab * s.c), uint32_t(s.c + 2), -1, 1, dtype);
      EXPECT_LE(wpm_test::rel_error(run_bwd(ctx, dtype, ids, dout, dtable0, s), ref_bwd(ids, dout, dtable0, s.c)),
                wpm_test::tolerance(dtype, true))
          << wpm_test::dtype_label(dtype) << " n " << s.n << " vocab " << s.vocab << " c " << s.c;
    }
}

TEST(Embedding, BackwardMatchesFiniteDifferences) {
  Context ctx;
  const Shape s{6, 4, 3};
  const std::vector<int32_t> ids = {2, 0, 2, 3, 2, 0};  // id 1 unused: its gradient stays 0
  std::vector<float> table = wpm_test::random_values(size_t(s.vocab * s.c), 91, -2, 2);
  std::vector<float> dout = wpm_test::random_values(size_t(s.n * s.c), 92, -1, 1);
  std::vector<float> dtable0 = wpm_test::random_values(size_t(s.vocab * s.c), 93, -1, 1);
  // loss(table) = sum dout * table[ids], the forward written from the definition.
  auto loss = [&](const std::vector<double>& t) {
    double sum = 0;
    for (int64_t i = 0; i < s.n; ++i)
      for (int64_t j = 0; j < s.c; ++j) sum += dout[i * s.c + j] * t[ids[i] * s.c + j];
    return sum;
  };
  std::vector<double> want = wpm_test::finite_difference(std::vector<double>(table.begin(), table.end()), loss);
  for (size_t i = 0; i < want.size(); ++i) want[i] += dtable0[i];
  EXPECT_LE(wpm_test::rel_error(run_bwd(ctx, WPM_F32, ids, dout, dtable0, s), want), 1e-5);
}

TEST(Embedding, BackwardGivesSameBits) {
  Context ctx(3);
  const Shape s{4000, 37, 513};
  std::vector<int32_t> ids = random_ids(s.n, s.vocab, 101);
  for (wpm_dtype dtype : kDtypes) {
    std::vector<float> dout = wpm_test::random_values(size_t(s.n * s.c), 102, -1, 1, dtype);
    std::vector<float> dtable0 = wpm_test::random_values(size_t(s.vocab * s.c), 103, -1, 1, dtype);
    std::vector<float> a = run_bwd(ctx, dtype, ids, dout, dtable0, s), b = run_bwd(ctx, dtype, ids, dout, dtable0, s);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << wpm_test::dtype_label(dtype);
  }
}

TEST(Embedding, OutOfRangeIdIsReportedWithIndexAndValue) {
  Context ctx;
  const Shape s{5, 10, 4};
  std::vector<float> table = wpm_test::random_values(size_t(s.vocab * s.c), 111, -1, 1);
  Buffer ids(ctx, WPM_I32, 5), bt(ctx, WPM_F32, table), out(ctx, WPM_F32, 20), dout(ctx, WPM_F32, table);
  for (int32_t bad : {-1, 10, 2147483647}) {
    ids.upload_i32({0, 9, 3, bad, 1});
    expect_error(wpm_embedding_fwd(ctx, ids, bt, out, s.n, s.vocab, s.c), WPM_ERR_INVALID_ARGUMENT, "ids[3]");
    EXPECT_NE(std::string(wpm_last_error()).find(std::to_string(bad)), std::string::npos) << wpm_last_error();
    expect_error(wpm_embedding_bwd(ctx, ids, dout, bt, s.n, s.vocab, s.c), WPM_ERR_INVALID_ARGUMENT, "ids[3]");
    EXPECT_EQ(bt.download(), table) << "dtable written before the bad id was found";
  }
}

TEST(Embedding, RejectsBadArguments) {
  Context ctx;
  Buffer ids(ctx, WPM_I32, 4), ids_f(ctx, WPM_F32, 4), table(ctx, WPM_F32, 12), out(ctx, WPM_F32, 8),
      small(ctx, WPM_F32, 7), out16(ctx, WPM_F16, 8);
  expect_error(wpm_embedding_fwd(ctx, nullptr, table, out, 4, 6, 2), WPM_ERR_INVALID_ARGUMENT, "'ids'");
  expect_error(wpm_embedding_fwd(ctx, ids_f, table, out, 4, 6, 2), WPM_ERR_DTYPE, "'ids'");
  expect_error(wpm_embedding_fwd(ctx, ids, table, out, 4, 7, 2), WPM_ERR_INVALID_ARGUMENT, "'table'");
  expect_error(wpm_embedding_fwd(ctx, ids, table, small, 4, 6, 2), WPM_ERR_INVALID_ARGUMENT, "'out'");
  expect_error(wpm_embedding_fwd(ctx, ids, table, out16, 4, 6, 2), WPM_ERR_DTYPE, "'out'");
  expect_error(wpm_embedding_fwd(ctx, ids, table, out, 4, 6, -2), WPM_ERR_INVALID_ARGUMENT, "'c'");
  expect_error(wpm_embedding_fwd(ctx, ids, table, out, 4, -6, 2), WPM_ERR_INVALID_ARGUMENT, "'vocab'");
  expect_error(wpm_embedding_bwd(ctx, ids, out, nullptr, 4, 6, 2), WPM_ERR_INVALID_ARGUMENT, "'dtable'");
  expect_error(wpm_embedding_bwd(ctx, ids, small, table, 4, 6, 2), WPM_ERR_INVALID_ARGUMENT, "'dout'");
  expect_error(wpm_embedding_bwd(ctx, ids, out16, table, 4, 6, 2), WPM_ERR_DTYPE, "'dtable'");
  expect_error(wpm_embedding_bwd(ctx, ids, out, table, -4, 6, 2), WPM_ERR_INVALID_ARGUMENT, "'n'");
}

}  // namespace
