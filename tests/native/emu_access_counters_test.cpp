// The emulator's access counters (emu::LaunchStats, emu::LaunchStatsLog): ldmatrix
// bank conflicts and cp.async sectors per warp instruction. The expected counts
// come from the hardware's definitions written out here, not from the emulator:
// a bank serves one 4-byte word per wavefront (any number of rows reading the
// same word share it), ldmatrix serves one 8x8 matrix (8 rows) per phase, and a
// 32-byte sector of global memory is fetched once per warp instruction. Then the
// attention kernels: their padded rows must cost no conflict, their tile loads no
// extra sector, and every ldmatrix they issue must be seen.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <vector>

#include "cp_async.cuh"
#include "emu_attention_harness.h"
#include "emu_test_util.h"
#include "ldmatrix.cuh"

namespace {

using attention_test::Shape;

// Wavefronts of one phase: the rows (byte offsets of 16-byte rows) spread over 32 banks of 4-byte words; a
// bank takes one wavefront per distinct word it holds.
uint64_t reference_wavefronts(const std::vector<size_t>& rows) {
  std::set<size_t> words[32];
  for (size_t row : rows)
    for (size_t w = row / 4; w < row / 4 + 4; ++w) words[w % 32].insert(w);
  size_t most = 0;
  for (const auto& bank : words) most = std::max(most, bank.size());
  return most;
}

// One warp, one ldmatrix of kCount matrices: lane l gives row l of a table of rows `stride` halves apart, so
// matrix j is rows 8j..8j+7.
template <int kCount>
__global__ void ldmatrix_stride_kernel(int stride, uint32_t* out) {
  uint16_t* s = emu_dynamic_smem<uint16_t>();
  const int lane = int(threadIdx.x);
  for (int i = lane; i < 32 * stride + 8; i += 32) s[i] = uint16_t(i);
  __syncthreads();
  uint32_t r[4] = {0, 0, 0, 0};
  if (kCount == 1) {
    ldmatrix_x1(r[0], s + lane * stride);
  } else {
    ldmatrix_x4(r, s + lane * stride);
  }
  out[lane] = r[0];
}

template <int kCount>
emu::LaunchStats ldmatrix_stats(int stride) {
  std::vector<uint32_t> out(32);
  emu::LaunchStatsLog log;
  emu::launch(ldmatrix_stride_kernel<kCount>, dim3(1), dim3(32), size_t(32 * stride + 8) * 2, stride, out.data());
  const std::vector<emu::LaunchStats> launches = log.launches();
  EXPECT_EQ(launches.size(), 1u);
  return launches.empty() ? emu::LaunchStats{} : launches[0];
}

template <int kCount>
uint64_t reference_conflicts(int stride) {
  uint64_t conflicts = 0;
  for (int j = 0; j < kCount; ++j) {
    std::vector<size_t> rows;
    for (int r = 0; r < 8; ++r) rows.push_back(size_t((8 * j + r) * stride) * 2);
    conflicts += reference_wavefronts(rows) - 1;
  }
  return conflicts;
}

TEST(EmuAccessCounters, LdmatrixBankConflictsOfPlantedLayouts) {
  // Row strides in halves: 64 (128 bytes, every row of a matrix in the same banks: 8 wavefronts a matrix),
  // 32 (64 bytes: two rows per bank set, 4 wavefronts), 72 (padded by 16 bytes: conflict-free), 8 (rows
  // back to back: conflict-free), 0 (every lane the same row: one broadcast wavefront).
  const struct {
    int stride;
    uint64_t x4_conflicts;
  } cases[] = {{64, 28}, {32, 12}, {72, 0}, {8, 0}, {0, 0}};
  for (const auto& c : cases) {
    ASSERT_EQ(reference_conflicts<4>(c.stride), c.x4_conflicts) << "the reference itself, stride " << c.stride;
    const emu::LaunchStats x4 = ldmatrix_stats<4>(c.stride);
    EXPECT_EQ(x4.ldmatrix, 1u);
    EXPECT_EQ(x4.ldmatrix_min_wavefronts, 4u);
    EXPECT_EQ(x4.bank_conflicts(), c.x4_conflicts) << "x4, stride " << c.stride;
    const emu::LaunchStats x1 = ldmatrix_stats<1>(c.stride);
    EXPECT_EQ(x1.ldmatrix_min_wavefronts, 1u);
    EXPECT_EQ(x1.bank_conflicts(), reference_conflicts<1>(c.stride)) << "x1, stride " << c.stride;
  }
}

// Two copies per lane (two warp instructions per warp): lane l of each warp reads 16 bytes at
// src + (32 w + l) * stride (+ 4096 for the second), or nothing (zfill) from lane `active` on.
__global__ void cp_async_stride_kernel(const uint8_t* src, int stride, int active) {
  uint16_t* s = emu_dynamic_smem<uint16_t>();
  const int t = int(threadIdx.x), lane = t & 31;
  for (int i = 0; i < 2; ++i) {
    const bool on = lane < active;
    cp_async_16_zfill(s + (i * blockDim.x + t) * 8, on ? src + t * stride + i * 4096 : src, on ? 16 : 0);
  }
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();
}

// Distinct 32-byte sectors of the addresses the kernel above reads in one instruction of warp w.
uint64_t reference_sectors(const uint8_t* src, int w, int stride, int active, int i) {
  std::set<uintptr_t> sectors;
  for (int l = 0; l < active; ++l)
    sectors.insert(reinterpret_cast<uintptr_t>(src + (32 * w + l) * stride + i * 4096) / 32);
  return sectors.size();
}

TEST(EmuAccessCounters, CpAsyncSectorsPerWarpInstruction) {
  // Strides in bytes: 16 (a warp reads 512 contiguous bytes: 16 sectors, the minimum), 32 (every lane its own
  // sector: 32), 48 (lanes straddle sector pairs unevenly: the reference says), 0 (all lanes one chunk).
  const struct {
    int stride, active;
    uint64_t sectors_per_instruction;  // 0: only the reference
  } cases[] = {{16, 32, 16}, {32, 32, 32}, {48, 32, 0}, {16, 8, 4}, {0, 32, 1}};
  emu_test::DeviceArray src(kdtype::f32, 4096 + 64 * 64);
  for (const auto& c : cases) {
    const uint8_t* base = src.as<uint8_t>();
    emu::LaunchStatsLog log;
    emu::launch(cp_async_stride_kernel, dim3(1), dim3(64), size_t(2 * 64 * 16), base, c.stride, c.active);
    const emu::LaunchStats stats = log.total();
    uint64_t want = 0;
    for (int w = 0; w < 2; ++w)
      for (int i = 0; i < 2; ++i) want += reference_sectors(base, w, c.stride, c.active, i);
    EXPECT_EQ(stats.cp_async, 4u) << "2 warps x 2 copies, stride " << c.stride;
    EXPECT_EQ(stats.cp_async_sectors, want) << "stride " << c.stride;
    if (c.sectors_per_instruction)
      EXPECT_EQ(want, 4 * c.sectors_per_instruction) << "the reference, stride " << c.stride;
    const uint64_t bytes = c.stride == 0 ? 16 : uint64_t(16 * c.active);
    EXPECT_EQ(stats.cp_async_min_sectors, 4 * ((bytes + 31) / 32)) << "stride " << c.stride;
  }
}

TEST(EmuAccessCounters, CountOnlyWhileALogExists) {
  std::vector<uint32_t> out(32);
  emu::launch(ldmatrix_stride_kernel<4>, dim3(1), dim3(32), size_t(32 * 64 + 8) * 2, 64, out.data());
  emu::LaunchStatsLog log;
  EXPECT_TRUE(log.launches().empty()) << "a launch before the log was recorded";
  EXPECT_THROW(emu::LaunchStatsLog second, std::logic_error);
  emu::launch(ldmatrix_stride_kernel<4>, dim3(2, 3), dim3(32), size_t(32 * 64 + 8) * 2, 64, out.data());
  ASSERT_EQ(log.launches().size(), 1u);
  EXPECT_EQ(log.launches()[0].grid.y, 3u);
  EXPECT_EQ(log.total().ldmatrix, 6u) << "one ldmatrix per block, six blocks";
  EXPECT_EQ(log.total().bank_conflicts(), 6u * 28u);
}

void print_stats(const char* what, const emu::LaunchStats& s) {
  std::printf("[ counters ] %-26s grid (%u,%u,%u): ldmatrix %llu, wavefronts %llu (min %llu), cp.async %llu, "
              "sectors %llu (min %llu)\n",
              what, s.grid.x, s.grid.y, s.grid.z, (unsigned long long)s.ldmatrix,
              (unsigned long long)s.ldmatrix_wavefronts, (unsigned long long)s.ldmatrix_min_wavefronts,
              (unsigned long long)s.cp_async, (unsigned long long)s.cp_async_sectors,
              (unsigned long long)s.cp_async_min_sectors);
}

// The reference model's attention (H 8, KVH 2, D 64, T 256) for one sequence (the counts scale with B), and
// the same at D 128 (rows of 272 bytes).
const Shape kShapes[] = {{1, 256, 8, 2, 64, kpadding::right, {}}, {1, 256, 8, 2, 128, kpadding::right, {}}};

TEST(EmuAccessCounters, AttentionForwardHasNoBankConflictsNorExtraSectors) {
  const emu_test::DtypeCase c{WPM_BF16, kdtype::bf16};
  for (const Shape& shape : kShapes) {
    const attention_test::Inputs in = attention_test::make_fwd_inputs(shape, c.wpm, 7);
    emu::LaunchStatsLog log;
    attention_test::run_emu_fwd(attention_fwd, shape, c, in);
    ASSERT_EQ(log.launches().size(), 1u);
    const emu::LaunchStats s = log.launches()[0];
    std::printf("[ counters ] D = %lld\n", (long long)shape.d);
    print_stats("attention_fwd_kernel", s);
    // From the kernel's tiling: query block x (of T / 64) visits x + 1 key tiles; per tile each of its 4 warps
    // issues 10 D / 32 ldmatrix for S (Q twice and K 8 times per pair of 16-wide k-steps) and D / 4 for P V.
    // Its copies: the Q tile once and a K and a V tile per visited tile, D / 16 instructions per warp each.
    const uint64_t tiles = uint64_t(shape.t) / 64, d = uint64_t(shape.d), heads = uint64_t(shape.h);
    const uint64_t visits = tiles * (tiles + 1) / 2;
    EXPECT_EQ(s.ldmatrix, heads * visits * 4 * (10 * d / 32 + d / 4)) << "D " << d;
    EXPECT_EQ(s.cp_async, heads * 4 * (d / 16) * (tiles + 2 * visits)) << "D " << d;
    EXPECT_EQ(s.bank_conflicts(), 0u) << "D " << d << ": rows of D + 8 halves put a matrix's rows in 8 bank groups";
    EXPECT_EQ(s.cp_async_sectors, s.cp_async_min_sectors) << "D " << d << ": a warp reads whole rows";
    EXPECT_EQ(s.cp_async_min_sectors, 16 * s.cp_async) << "D " << d << ": every lane copies 16 bytes (no padding rows)";
  }
}

TEST(EmuAccessCounters, AttentionBackwardHasNoBankConflictsNorExtraSectors) {
  const emu_test::DtypeCase c{WPM_BF16, kdtype::bf16};
  for (const Shape& shape : kShapes) {
    const attention_test::Inputs in = attention_test::make_bwd_inputs(attention_fwd, shape, c, 11);
    emu::LaunchStatsLog log;
    attention_test::run_emu_bwd(attention_test::kTensorCoreBwd, shape, c, in);
    const std::vector<emu::LaunchStats> launches = log.launches();
    // Preprocess, dK/dV, the GQA reduce, dQ, in launch order.
    ASSERT_EQ(launches.size(), 4u);
    const char* names[] = {"attention_bwd_preprocess", "attention_bwd_dkdv", "attention_bwd_reduce",
                           "attention_bwd_dq"};
    std::printf("[ counters ] D = %lld\n", (long long)shape.d);
    for (size_t i = 0; i < launches.size(); ++i) {
      print_stats(names[i], launches[i]);
      EXPECT_EQ(launches[i].bank_conflicts(), 0u) << names[i] << ", D " << shape.d;
      EXPECT_EQ(launches[i].cp_async_sectors, launches[i].cp_async_min_sectors) << names[i] << ", D " << shape.d;
    }
    for (size_t i : {1, 3}) {
      EXPECT_GT(launches[i].ldmatrix, 0u) << names[i];
      EXPECT_GT(launches[i].cp_async, 0u) << names[i];
    }
  }
}

}  // namespace
