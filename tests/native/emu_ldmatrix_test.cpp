// ldmatrix.cuh under the emulator: x1/x2/x4, plain and .trans, with every lane
// pointing at an arbitrary (permuted) 16-byte row of shared memory. Expected
// registers come from the PTX ISA description written out here: lanes 8j..8j+7
// give the row addresses of matrix j; lane l receives, of matrix j, row l/4,
// elements 2(l%4) and 2(l%4)+1 (low half first), or with .trans the same
// positions of the transposed matrix. Lanes past 8 * count give addresses that
// must be ignored. Errors: misaligned row, a global pointer, divergent variants.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "emu_test_util.h"
#include "ldmatrix.cuh"

namespace {

using emu_test::ConfigScope;
using emu_test::schedules;

constexpr int kRows = 64;  // shared memory rows of 8 x 16-bit elements

// Fills dynamic shared memory from src (kRows x 8), then one ldmatrix per warp;
// lane l of warp w reads row rows[w * 32 + l]; -1 gives an address that
// must not be used (misaligned, outside shared memory).
template <int kCount, bool kTrans>
__global__ void ldmatrix_kernel(const uint16_t* src, const int* rows, uint32_t* out) {
  uint16_t* s = emu_dynamic_smem<uint16_t>();
  for (int i = threadIdx.x; i < kRows * 8; i += blockDim.x) s[i] = src[i];
  __syncthreads();
  const int lane = threadIdx.x & 31;
  const int row = rows[threadIdx.x];
  const void* p = row >= 0 ? static_cast<const void*>(s + row * 8) : static_cast<const void*>(src + 1);
  uint32_t r[4] = {0, 0, 0, 0};
  if (kCount == 1) {
    if (kTrans) {
      ldmatrix_x1_trans(r[0], p);
    } else {
      ldmatrix_x1(r[0], p);
    }
  } else if (kCount == 2) {
    uint32_t r2[2];
    if (kTrans) {
      ldmatrix_x2_trans(r2, p);
    } else {
      ldmatrix_x2(r2, p);
    }
    r[0] = r2[0];
    r[1] = r2[1];
  } else {
    if (kTrans) {
      ldmatrix_x4_trans(r, p);
    } else {
      ldmatrix_x4(r, p);
    }
  }
  for (int j = 0; j < kCount; ++j) out[threadIdx.x * kCount + j] = r[j];
  (void)lane;
}

template <int kCount, bool kTrans>
void check_ldmatrix() {
  constexpr int kWarps = 2;
  std::vector<uint16_t> src(kRows * 8);
  for (int i = 0; i < kRows * 8; ++i) src[i] = uint16_t(0x1000 + i * 7);  // distinct
  std::vector<int> rows(32 * kWarps);
  for (int w = 0; w < kWarps; ++w)
    for (int l = 0; l < 32; ++l)
      rows[w * 32 + l] = l < 8 * kCount ? (l * 37 + w * 11 + 5) % kRows : -1;  // a permutation of rows
  std::vector<uint32_t> first;
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<uint32_t> out(32 * kWarps * kCount, 0xdeadbeef);
    emu::launch(ldmatrix_kernel<kCount, kTrans>, dim3(1), dim3(32 * kWarps), kRows * 16, src.data(), rows.data(),
                out.data());
    for (int w = 0; w < kWarps; ++w)
      for (int l = 0; l < 32; ++l)
        for (int j = 0; j < kCount; ++j) {
          uint16_t want[2];
          for (int e = 0; e < 2; ++e) {
            // matrix j's row r lives at the address lane 8j + r gave
            const int r = kTrans ? 2 * (l % 4) + e : l / 4;
            const int col = kTrans ? l / 4 : 2 * (l % 4) + e;
            want[e] = src[rows[w * 32 + 8 * j + r] * 8 + col];
          }
          const uint32_t got = out[(w * 32 + l) * kCount + j];
          ASSERT_EQ(got, uint32_t(want[0]) | uint32_t(want[1]) << 16)
              << s.name << " warp " << w << " lane " << l << " matrix " << j;
        }
    if (first.empty()) {
      first = out;
    } else {
      EXPECT_EQ(out, first) << s.name;
    }
  }
}

TEST(EmuLdmatrix, X1) { check_ldmatrix<1, false>(); }
TEST(EmuLdmatrix, X2) { check_ldmatrix<2, false>(); }
TEST(EmuLdmatrix, X4) { check_ldmatrix<4, false>(); }
TEST(EmuLdmatrix, X1Trans) { check_ldmatrix<1, true>(); }
TEST(EmuLdmatrix, X2Trans) { check_ldmatrix<2, true>(); }
TEST(EmuLdmatrix, X4Trans) { check_ldmatrix<4, true>(); }

// The A-fragment recipe of ldmatrix.cuh / docs/emulator.md, "Fragment layouts" (x4 over a row-major
// 16x16 EMU_SHARED tile) gives the PTX A layout, written here per element:
// a_i at row groupID (+8 for i = 2,3,6,7), column 2 * threadID_in_group + (i & 1) (+8 for i >= 4).
__global__ void a_fragment_kernel(const uint16_t* a, uint32_t* out) {
  EMU_SHARED(uint16_t, As, [16][16]);
  const int lane = threadIdx.x;
  for (int i = lane; i < 256; i += 32) As[i / 16][i % 16] = a[i];
  __syncthreads();
  uint32_t r[4];
  ldmatrix_x4(r, &As[lane & 15][(lane >> 4) * 8]);
  for (int j = 0; j < 4; ++j) out[lane * 4 + j] = r[j];
}

TEST(EmuLdmatrix, X4RecipeGivesTheMmaAFragment) {
  std::vector<uint16_t> a(256);
  for (int i = 0; i < 256; ++i) a[i] = uint16_t(i + 1);
  std::vector<uint32_t> out(128);
  emu::launch(a_fragment_kernel, dim3(1), dim3(32), 0, a.data(), out.data());
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 8; ++i) {
      const int g = lane >> 2, t = lane % 4;
      const int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
      const int col = 2 * t + (i & 1) + (i >= 4 ? 8 : 0);
      const uint16_t got = uint16_t(out[lane * 4 + i / 2] >> (16 * (i % 2)));
      ASSERT_EQ(got, a[row * 16 + col]) << "lane " << lane << " a" << i;
    }
}

// ---- errors
constexpr int kMisalignedLine = __LINE__ + 5;
__global__ void misaligned_kernel(uint32_t* out) {
  uint16_t* s = emu_dynamic_smem<uint16_t>();
  const int lane = threadIdx.x;
  uint32_t r[4];
  ldmatrix_x4(r, s + lane * 8 + (lane == 5 ? 4 : 0));  // lane 5: 8 bytes into its row
  out[lane] = r[0];
}

constexpr int kGlobalLine = __LINE__ + 4;
__global__ void global_pointer_kernel(const uint16_t* g, uint32_t* out) {
  const int lane = threadIdx.x;
  uint32_t r[2];
  ldmatrix_x2_trans(r, g + lane * 8);
  out[lane] = r[0];
}

__global__ void divergent_kernel(uint32_t* out) {
  uint16_t* s = emu_dynamic_smem<uint16_t>();
  const int lane = threadIdx.x;
  uint32_t r[4] = {0, 0, 0, 0};
  if (lane < 16) {
    ldmatrix_x4(r, s + lane * 8);
  } else {
    ldmatrix_x4_trans(r, s + lane * 8);
  }
  out[lane] = r[0];
}

TEST(EmuLdmatrix, MisalignedRowIsReportedWithFileAndLine) {
  std::vector<uint32_t> out(32);
  const std::string e =
      emu_test::launch_error([&] { emu::launch(misaligned_kernel, dim3(1), dim3(32), 32 * 16, out.data()); });
  EXPECT_NE(e.find("emu_ldmatrix_test.cpp:" + std::to_string(kMisalignedLine) + ": ldmatrix.x4: lane 5"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("not 16-byte aligned"), std::string::npos) << e;
}

TEST(EmuLdmatrix, GlobalPointerIsReported) {
  emu_test::DeviceArray g(kdtype::f16, 32 * 8);
  std::vector<uint32_t> out(32);
  const std::string e = emu_test::launch_error(
      [&] { emu::launch(global_pointer_kernel, dim3(1), dim3(32), 0, g.as<const uint16_t>(), out.data()); });
  EXPECT_NE(e.find("emu_ldmatrix_test.cpp:" + std::to_string(kGlobalLine) + ": ldmatrix.x2.trans: lane "),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("not in this block's shared memory"), std::string::npos) << e;
}

TEST(EmuLdmatrix, DivergentVariantsAreReported) {
  std::vector<uint32_t> out(32);
  const std::string e =
      emu_test::launch_error([&] { emu::launch(divergent_kernel, dim3(1), dim3(32), 32 * 16, out.data()); });
  EXPECT_NE(e.find("divergent warp collective"), std::string::npos) << e;
  EXPECT_NE(e.find("emu_ldmatrix_test.cpp:"), std::string::npos) << e;
}

}  // namespace
