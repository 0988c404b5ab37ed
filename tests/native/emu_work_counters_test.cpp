// The emulator's work counters (emu::LaunchStats: global and shared bytes, mma and reported FLOPs) against
// bytes and FLOPs worked out here from each op's formula and, for attention, from its tiling (64 query rows
// and 64 keys a tile, documented in kernels/attention.cu). Within 10 %: the counters see every thread's
// access, so a kernel's small extra reads (each thread reading the sequence length) count too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "emu_test_util.h"
#include "kernels.h"

namespace {

using emu_test::DeviceArray;

void expect_near_rel(double counted, double analytic, const char* what) {
  EXPECT_NEAR(counted, analytic, 0.10 * analytic) << what << ": counted " << counted << ", analytic " << analytic;
}

emu::LaunchStats only_launch(const emu::LaunchStatsLog& log) {
  const std::vector<emu::LaunchStats> launches = log.launches();
  EXPECT_EQ(launches.size(), 1u);
  return launches.empty() ? emu::LaunchStats{} : launches[0];
}

class WorkCounters : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!emu::global_accesses_counted()) GTEST_SKIP() << "this build's kernels do not report their accesses";
  }
};

TEST_F(WorkCounters, GeluExactFormCountsItsBytesAndFlops) {
  const int64_t n = 1 << 14;
  DeviceArray x(kdtype::f32, std::vector<float>(n, 0.5f)), y(kdtype::f32, n), dy(kdtype::f32, std::vector<float>(n, 1.0f)),
      dx(kdtype::f32, n);
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::gelu_fwd(nullptr, x.data(), y.data(), n, gelu_form::exact, kdtype::f32), KSTATUS_OK);
    const emu::LaunchStats s = only_launch(log);
    expect_near_rel(double(s.global_read_bytes), 4.0 * n, "gelu fwd read");
    expect_near_rel(double(s.global_write_bytes), 4.0 * n, "gelu fwd written");
    // x Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2: the scaling, erfc, the half, the product.
    expect_near_rel(double(s.flops()), 4.0 * n, "gelu fwd flops");
    // The instantiation's name: the f32 and bf16 kernels are rows of their own in the profile.
    EXPECT_EQ(std::string(s.kernel).rfind("gelu_fwd_kernel<float", 0), 0u) << s.kernel;
    EXPECT_EQ(s.min_bytes, uint64_t(8 * n));
  }
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::gelu_bwd(nullptr, dy.data(), x.data(), dx.data(), n, gelu_form::exact, kdtype::f32), KSTATUS_OK);
    const emu::LaunchStats s = only_launch(log);
    expect_near_rel(double(s.global_read_bytes), 8.0 * n, "gelu bwd read");
    expect_near_rel(double(s.global_write_bytes), 4.0 * n, "gelu bwd written");
    // dout (Phi(x) + x phi(x)): Phi 3, x^2 / 2 2, exp 1, / sqrt(2 pi) 1, x * 1, + 1, dout * 1.
    expect_near_rel(double(s.flops()), 10.0 * n, "gelu bwd flops");
  }
}

TEST_F(WorkCounters, LastTokenPoolingMovesItsRows) {
  const int64_t b = 4, t = 8, c = 4096;
  DeviceArray hidden(kdtype::f32, std::vector<float>(b * t * c, 1.0f)), out(kdtype::f32, b * c),
      dout(kdtype::f32, std::vector<float>(b * c, 1.0f)), dhidden(kdtype::f32, b * t * c);
  DeviceArray lengths(std::vector<int32_t>{8, 3, 1, 5});
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::last_token_pool_fwd(nullptr, hidden.data(), lengths.as<int32_t>(), out.data(), b, t, c,
                                               kpadding::right, kdtype::f32), KSTATUS_OK);
    const emu::LaunchStats s = only_launch(log);
    expect_near_rel(double(s.global_read_bytes), double(b * c * 4 + b * 4), "pool fwd read");
    expect_near_rel(double(s.global_write_bytes), double(b * c * 4), "pool fwd written");
    EXPECT_EQ(s.flops(), 0u);
  }
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::last_token_pool_bwd(nullptr, dout.data(), lengths.as<int32_t>(), dhidden.data(), b, t, c,
                                               kpadding::right, kdtype::f32), KSTATUS_OK);
    const emu::LaunchStats s = only_launch(log);
    expect_near_rel(double(s.global_write_bytes), double(b * t * c * 4), "pool bwd written");
    expect_near_rel(double(s.global_read_bytes + s.global_write_bytes), double(b * c * 4 + b * 4 + b * t * c * 4),
                    "pool bwd total");
  }
}

TEST_F(WorkCounters, BradleyTerryLossCountsPairs) {
  const int64_t pairs = 4096;
  DeviceArray chosen(kdtype::f32, std::vector<float>(pairs, 0.25f)), rejected(kdtype::f32, std::vector<float>(pairs, -0.5f)),
      loss(kdtype::f32, 1), dc(kdtype::f32, pairs), dr(kdtype::f32, pairs);
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::bt_loss_fwd(nullptr, chosen.as<float>(), rejected.as<float>(), nullptr, loss.as<float>(), pairs,
                                       0.0f), KSTATUS_OK);
    const emu::LaunchStats s = only_launch(log);
    expect_near_rel(double(s.global_read_bytes), 8.0 * pairs, "bt fwd read");
    EXPECT_EQ(s.global_write_bytes, 4u);
    // Per pair: delta 1, margin 1, softplus log(1 + exp z) 3, the weight 1, the two sums 2.
    expect_near_rel(double(s.flops()), 8.0 * pairs, "bt fwd flops");
  }
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::bt_loss_bwd(nullptr, chosen.as<float>(), rejected.as<float>(), nullptr, dc.as<float>(),
                                       dr.as<float>(), pairs, 0.0f, 1.0f), KSTATUS_OK);
    const emu::LaunchStats s = only_launch(log);
    expect_near_rel(double(s.global_read_bytes), 8.0 * pairs, "bt bwd read");
    expect_near_rel(double(s.global_write_bytes), 8.0 * pairs, "bt bwd written");
    // Per pair: delta and margin 2, sigmoid 1 / (1 + exp) 3, the weight and dloss / sum 2.
    expect_near_rel(double(s.flops()), 7.0 * pairs, "bt bwd flops");
  }
}

// In place: each element of x is loaded once and stored once (the cos/sin table lives in shared memory).
// A load and a store of the same address must both count.
TEST_F(WorkCounters, RopeInPlaceCountsEachElementReadAndWritten) {
  const int64_t b = 2, t = 16, h = 4, d = 64;
  const double x_bytes = double(b * t * h * d) * 4.0;
  DeviceArray x(kdtype::f32, std::vector<float>(size_t(b * t * h * d), 0.5f));
  emu::LaunchStatsLog log;
  ASSERT_EQ(kernels_emu::rope_fwd(nullptr, x.data(), nullptr, b, t, h, d, 10000.0f, kdtype::f32), KSTATUS_OK);
  const emu::LaunchStats s = only_launch(log);
  expect_near_rel(double(s.global_read_bytes), x_bytes, "rope read");
  expect_near_rel(double(s.global_write_bytes), x_bytes, "rope written");
  expect_near_rel(double(s.shared_write_bytes), double(b * t * d) * 4.0, "rope cos/sin table written");
}

// AdamW updates p, m and v in place and reads the f32 gradient: 16 bytes read and 12 written per element.
// The table is read from global memory once per block of the fixed grid (1056 blocks), not once per thread:
// 1056 x 256 reads of its row would be 17 MB here, 34x the tensor's own bytes.
TEST_F(WorkCounters, AdamwInPlaceCountsParamsAndMomentsBothWays) {
  const size_t n = 1 << 15;
  DeviceArray p(kdtype::f32, std::vector<float>(n, 1.0f)), g(kdtype::f32, std::vector<float>(n, 0.5f)),
      m(kdtype::f32, std::vector<float>(n, 0.0f)), v(kdtype::f32, std::vector<float>(n, 0.0f));
  const kadamw_tensor row{p.as<float>(), g.data(), m.as<float>(), v.as<float>(), nullptr, int64_t(n), kdtype::f32,
                          kdtype::f32, 1};
  auto* table = static_cast<kadamw_tensor*>(emu::device_alloc(sizeof row, "adamw table"));
  std::memcpy(table, &row, sizeof row);
  const kadamw_hyper hyper{1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f, 1};
  emu::LaunchStatsLog log;
  ASSERT_EQ(kernels_emu::adamw_step(nullptr, table, 1, hyper), KSTATUS_OK);
  emu::device_free(table);
  const emu::LaunchStats s = only_launch(log);
  expect_near_rel(double(s.global_write_bytes), 12.0 * double(n), "adamw written");
  expect_near_rel(double(s.global_read_bytes), 16.0 * double(n) + 1056.0 * double(sizeof row), "adamw read");
}

// The bytes every thread moved over the op's minimum (each input read once, each output written once), with the
// minimum worked out here; the launcher must state the same minimum, and the kernel must move at most 1.25x it
// (issue 13's bound for elementwise, norm and optimizer kernels).
void expect_within_minimum(const emu::LaunchStats& s, double minimum, const std::string& what) {
  const double counted = double(s.global_read_bytes + s.global_write_bytes);
  EXPECT_EQ(double(s.min_bytes), minimum) << what << ": the launcher's stated minimum";
  EXPECT_GE(counted, minimum) << what << ": counted below the minimum, so the minimum is wrong";
  EXPECT_LE(counted, 1.25 * minimum) << what << ": counted " << counted << " bytes, " << counted / minimum
                                     << "x the minimum " << minimum;
}

// RMSNorm at W4's width (C = 512) on 128 rows (W4's quick batch): the forward reads x, the weight and writes out
// and rstd; the backward kernel reads dout, x, the weight and rstd and writes dx and the workspace's partial rows,
// which the dweight kernel reads back, adding into dweight in place.
TEST_F(WorkCounters, RmsnormKernelsMoveAtMostAQuarterOverTheirMinimum) {
  const int64_t n = 128, c = 512;
  for (kdtype dt : {kdtype::f32, kdtype::bf16}) {
    const double s = dt == kdtype::f32 ? 4.0 : 2.0, rows = double(n) * double(c) * s, weight = double(c) * s;
    const std::string label = dt == kdtype::f32 ? "f32 " : "bf16 ";
    std::vector<float> values(size_t(n * c));
    for (size_t i = 0; i < values.size(); ++i) values[i] = float(std::sin(0.11 * double(i)));
    DeviceArray x(dt, values), w(dt, std::vector<float>(size_t(c), 1.25f)), out(dt, size_t(n * c)),
        rstd(kdtype::f32, size_t(n)), dout(dt, values), dx(dt, size_t(n * c)),
        dweight(dt, std::vector<float>(size_t(c), 0.0f));
    const int64_t workspace_bytes = kernels_emu::rmsnorm_bwd_workspace_bytes(n, c);
    DeviceArray workspace(kdtype::f32, size_t(workspace_bytes / 4));
    {
      emu::LaunchStatsLog log;
      ASSERT_EQ(kernels_emu::rmsnorm_fwd(nullptr, x.data(), w.data(), out.data(), rstd.as<float>(), n, c, 1e-6f, dt),
                KSTATUS_OK);
      expect_within_minimum(only_launch(log), 2.0 * rows + weight + 4.0 * double(n), label + "rmsnorm fwd");
    }
    {
      emu::LaunchStatsLog log;
      ASSERT_EQ(kernels_emu::rmsnorm_bwd(nullptr, dout.data(), x.data(), w.data(), rstd.as<float>(), dx.data(),
                                         dweight.data(), workspace.data(), n, c, dt),
                KSTATUS_OK);
      const std::vector<emu::LaunchStats> launches = log.launches();
      ASSERT_EQ(launches.size(), 2u);
      expect_within_minimum(launches[0], 3.0 * rows + weight + 4.0 * double(n) + double(workspace_bytes),
                            label + "rmsnorm bwd");
      expect_within_minimum(launches[1], double(workspace_bytes) + 2.0 * weight, label + "rmsnorm bwd dweight");
    }
  }
}

// Two tensors, f32 and bf16, through the loss scaler's scale-and-check and the global norm, each given the host
// copy of its table: every element read once (and written once by the scale), the table read once, and the
// small results (found_inf; the norm's 512 fp64 partials written and read, out).
TEST_F(WorkCounters, GradientUtilitiesStateAndKeepWithinTheirMinimum) {
  const size_t n0 = 1 << 17, n1 = 3000;
  DeviceArray a(kdtype::f32, std::vector<float>(n0, 0.5f)), b(kdtype::bf16, std::vector<float>(n1, -2.0f)),
      found(kdtype::f32, 1), norm(kdtype::f32, 1),
      workspace(kdtype::f32, size_t(kernels_emu::global_norm_workspace_bytes() / 4));
  const std::vector<ktensor> host{{a.data(), int64_t(n0), kdtype::f32}, {b.data(), int64_t(n1), kdtype::bf16}};
  auto* table = static_cast<ktensor*>(emu::device_alloc(host.size() * sizeof(ktensor), "tensor table"));
  std::memcpy(table, host.data(), host.size() * sizeof(ktensor));
  const double elements = 4.0 * double(n0) + 2.0 * double(n1), table_bytes = double(host.size() * sizeof(ktensor));
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::scale_check_finite(nullptr, table, 2, 0.5f, found.as<float>(), host.data()), KSTATUS_OK);
    const std::vector<emu::LaunchStats> launches = log.launches();
    ASSERT_EQ(launches.size(), 2u);
    expect_within_minimum(launches[0], 4.0, "scale_check_finite clear");
    expect_within_minimum(launches[1], table_bytes + 2.0 * elements, "scale_check_finite");
  }
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::global_norm(nullptr, table, 2, workspace.data(), norm.as<float>(), host.data()),
              KSTATUS_OK);
    const std::vector<emu::LaunchStats> launches = log.launches();
    ASSERT_EQ(launches.size(), 2u);
    expect_within_minimum(launches[0], table_bytes + elements + 512.0 * 8.0, "global_norm partial");
    expect_within_minimum(launches[1], 512.0 * 8.0 + 4.0, "global_norm final");
  }
  emu::device_free(table);
}

// AdamW given its table's host copy: per element p, m, v read and written (24 bytes), the f32 gradient read and
// the bf16 working copy written; the table and grad_check's two floats read once.
TEST_F(WorkCounters, AdamwStatesAndKeepsWithinItsMinimum) {
  const size_t n = 1 << 15;
  DeviceArray p(kdtype::f32, std::vector<float>(n, 1.0f)), g(kdtype::f32, std::vector<float>(n, 0.5f)),
      m(kdtype::f32, std::vector<float>(n, 0.0f)), v(kdtype::f32, std::vector<float>(n, 0.0f)),
      working(kdtype::bf16, n), check(kdtype::f32, std::vector<float>{0.0f, 1.0f});
  const kadamw_tensor row{p.as<float>(), g.data(), m.as<float>(), v.as<float>(), working.data(), int64_t(n),
                          kdtype::f32, kdtype::bf16, 1};
  auto* table = static_cast<kadamw_tensor*>(emu::device_alloc(sizeof row, "adamw table"));
  std::memcpy(table, &row, sizeof row);
  kadamw_hyper hyper{1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f, 1};
  hyper.grad_check = check.as<float>();
  emu::LaunchStatsLog log;
  ASSERT_EQ(kernels_emu::adamw_step(nullptr, table, 1, hyper, &row), KSTATUS_OK);
  emu::device_free(table);
  expect_within_minimum(only_launch(log), double(n) * (24.0 + 4.0 + 2.0) + double(sizeof row) + 8.0, "adamw");
}

// Causal attention over one sequence of t tokens, one head, d = 64, bf16: with 64-row tiles, query tile i meets
// key tiles 0..i, so K and V (and, in the backward's key pass, Q and dO) are read once per pair of tiles.
TEST_F(WorkCounters, AttentionForwardAndBackwardCountTheirTiles) {
  const int64_t t = 1024, d = 64, tile = 64, tiles = t / tile;
  const double tile_pairs = double(tiles * (tiles + 1) / 2);
  const double row = double(d * 2), tile_bytes = double(tile) * row;
  const double key_pairs = double(t) * double(t + 1) / 2;  // (query, key) pairs the mask lets through
  std::vector<float> values(t * d);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.37 * double(i)) * 0.5f;
  DeviceArray q(kdtype::bf16, values), k(kdtype::bf16, values), v(kdtype::bf16, values), out(kdtype::bf16, t * d),
      dout(kdtype::bf16, values), dq(kdtype::bf16, t * d), dk(kdtype::bf16, t * d), dv(kdtype::bf16, t * d),
      lse(kdtype::f32, t);
  DeviceArray workspace(kdtype::f32,
                        size_t(kernels_emu::attention_bwd_workspace_bytes(1, t, 1, 1, d) / 4 + 1));
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::attention_fwd(nullptr, q.data(), k.data(), v.data(), nullptr, out.data(), lse.as<float>(), 1,
                                         t, 1, 1, d, 0.0f, kpadding::right, kdtype::bf16), KSTATUS_OK);
    const emu::LaunchStats s = only_launch(log);
    expect_near_rel(double(s.mma_flops), 2.0 * 2.0 * double(d) * key_pairs, "attention fwd flops (QK^T, PV)");
    expect_near_rel(double(s.global_read_bytes), double(t) * row + 2.0 * tile_pairs * tile_bytes, "attention fwd read");
    expect_near_rel(double(s.global_write_bytes), double(t) * row + 4.0 * double(t), "attention fwd written");
  }
  {
    emu::LaunchStatsLog log;
    ASSERT_EQ(kernels_emu::attention_bwd(nullptr, q.data(), k.data(), v.data(), out.data(), lse.as<float>(), dout.data(),
                                         dq.data(), dk.data(), dv.data(), workspace.data(), nullptr, 1, t, 1, 1, d, 0.0f,
                                         kpadding::right, kdtype::bf16), KSTATUS_OK);
    emu::LaunchStats s;
    for (const emu::LaunchStats& l : log.launches()) s += l;
    // The key pass recomputes S and forms dP, dV, dK; the query pass recomputes S and dP and forms dQ.
    expect_near_rel(double(s.mma_flops), 7.0 * 2.0 * double(d) * key_pairs, "attention bwd flops");
    // Preprocess: out and dout once. Key pass: K, V once, Q and dO per tile pair; with no cache model every
    // lane reads the row statistics of each element of its share of the 64 x 64 S^T tile: Delta for all
    // 4096, lse for the live ones (the causal pairs). Query pass: Q, dO once, K and V per tile pair, and
    // each of a block's 128 lanes reads lse and Delta of its 2 rows (64 rows a block: 4 reads per row).
    const double key_pass_stats = 4.0 * (tile_pairs * double(tile * tile) + key_pairs);
    const double query_pass_stats = 4.0 * 2.0 * 4.0 * double(t);
    const double read = 2.0 * double(t) * row + (2.0 * double(t) * row + tile_pairs * 2.0 * tile_bytes + key_pass_stats) +
                        (2.0 * double(t) * row + tile_pairs * 2.0 * tile_bytes + query_pass_stats);
    expect_near_rel(double(s.global_read_bytes), read, "attention bwd read");
    expect_near_rel(double(s.global_write_bytes), 3.0 * double(t) * row + 4.0 * double(t), "attention bwd written");
  }
}

// The embedding backward sorts the tokens by id and sums each id's segment: O(N log N) bytes, where a scan of
// every earlier token per token would be O(N^2) (doubling N would then about quadruple them).
TEST_F(WorkCounters, EmbeddingBackwardBytesGrowAsNLogN) {
  const int64_t c = 256;
  auto counted = [&](int64_t n, double* min_bytes) {
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) ids[size_t(t)] = int32_t((t * 2654435761u) % uint64_t(n / 2));
    const double distinct = double(std::set<int32_t>(ids.begin(), ids.end()).size());
    // ids read, dout read once, each touched dtable row read and written once.
    *min_bytes = 4.0 * n + 4.0 * n * c + 2.0 * 4.0 * distinct * c;
    DeviceArray dids(ids), dout(kdtype::f32, std::vector<float>(size_t(n * c), 1.0f)),
        dtable(kdtype::f32, std::vector<float>(size_t(n / 2 * c), 0.0f)),
        workspace(kdtype::f32, size_t(kernels_emu::embedding_bwd_workspace_bytes(n) / 4));
    emu::LaunchStatsLog log;
    EXPECT_EQ(kernels_emu::embedding_bwd(nullptr, dids.as<int32_t>(), dout.data(), dtable.data(), workspace.data(), n,
                                         n / 2, c, kdtype::f32),
              KSTATUS_OK);
    // The segment sum's stated minimum counts the distinct ids, which only the device data holds: dout and
    // the sorted keys read once, each touched dtable row read and written once.
    for (const emu::LaunchStats& l : log.launches())
      if (std::string(l.kernel).rfind("embedding_segment_sum_kernel", 0) == 0)
        EXPECT_EQ(double(l.min_bytes), 4.0 * n * c + 8.0 * n + 2.0 * 4.0 * distinct * c) << "n = " << n;
    const emu::LaunchStats s = log.total();
    return double(s.global_read_bytes + s.global_write_bytes);
  };
  double min_small = 0, min_large = 0;
  const double small = counted(2048, &min_small), large = counted(4096, &min_large);  // 1 and 2 merge passes
  EXPECT_LT(large / small, 3.0) << "counted " << small << " then " << large << " bytes";
  EXPECT_GE(small, min_small);
  // The sort's keys are small beside the rows: within 1.25x of the op's minimum.
  EXPECT_LT(small, 1.25 * min_small) << "minimum " << min_small;
  EXPECT_LT(large, 1.25 * min_large) << "minimum " << min_large;
}

}  // namespace
