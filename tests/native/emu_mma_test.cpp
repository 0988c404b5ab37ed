// mma.cuh under the emulator: mma.sync m16n8k16 (f16 and bf16 in, f32
// accumulate) against a float64 matmul. The fragments are built and read back
// with a mapping written here from the PTX ISA's element-wise description
// ("Matrix Fragments for mma.m16n8k16": row/col of a_i, b_i, c_i in terms of
// groupID and threadID_in_group), not with the emulator's own code. Random
// inputs (tolerance) and small dyadic inputs (exact), d aliasing c, several
// warps and blocks, every schedule bitwise identical; divergent and partial-warp
// mma reported; and kernels/mma_probe.cu end to end (cp.async -> ldmatrix -> mma).
// The random-input tolerance follows emu::Config::mma (WORLDPM_EMU_MMA); the
// truncating accumulation is also checked on its own against a float64 model of
// it written here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emu_test_util.h"
#include "mma.cuh"

namespace {

using emu_test::ConfigScope;
using emu_test::schedules;

// ---- the PTX ISA mapping, element by element (i is the element index within the lane's fragment)
struct Pos {
  int row, col;
};
// A (16x16, .row): a0..a7, two per 32-bit register (register i / 2, half i % 2).
Pos a_pos(int lane, int i) {
  const int group = lane >> 2, tig = lane % 4;
  const int row = (i < 2 || (i >= 4 && i < 6)) ? group : group + 8;
  const int col = tig * 2 + (i & 1) + (i >= 4 ? 8 : 0);
  return {row, col};
}
// B (16x8, K x N, .col): b0..b3.
Pos b_pos(int lane, int i) {
  const int group = lane >> 2, tig = lane % 4;
  return {tig * 2 + (i & 1) + (i >= 2 ? 8 : 0), group};
}
// C / D (16x8 f32): c0..c3.
Pos c_pos(int lane, int i) {
  const int group = lane >> 2, tig = lane % 4;
  return {i < 2 ? group : group + 8, tig * 2 + (i & 1)};
}

uint16_t to_bits(float v, bool bf16) { return bf16 ? wpm::float_to_bf16(v) : wpm::float_to_f16(v); }
float from_bits(uint16_t h, bool bf16) { return bf16 ? wpm::bf16_to_float(h) : wpm::f16_to_float(h); }

struct Tile {
  float A[16][16], B[16][8], C[16][8];  // the values as stored (already rounded to the input type)
};

// Fragments of one tile: 32 lanes x {a[4], b[2]} registers and c[4] floats.
void make_fragments(const Tile& t, bool bf16, uint32_t* a, uint32_t* b, float* c) {
  std::memset(a, 0, 32 * 4 * 4);
  std::memset(b, 0, 32 * 2 * 4);
  for (int lane = 0; lane < 32; ++lane) {
    for (int i = 0; i < 8; ++i) {
      const Pos p = a_pos(lane, i);
      a[lane * 4 + i / 2] |= uint32_t(to_bits(t.A[p.row][p.col], bf16)) << (16 * (i % 2));
    }
    for (int i = 0; i < 4; ++i) {
      const Pos p = b_pos(lane, i);
      b[lane * 2 + i / 2] |= uint32_t(to_bits(t.B[p.row][p.col], bf16)) << (16 * (i % 2));
    }
    for (int i = 0; i < 4; ++i) {
      const Pos p = c_pos(lane, i);
      c[lane * 4 + i] = t.C[p.row][p.col];
    }
  }
}

// Each warp of each block runs one mma on its own tile's fragments.
template <bool kBf16, bool kAlias>
__global__ void mma_kernel(const uint32_t* a, const uint32_t* b, const float* c, float* d) {
  const int lane = threadIdx.x & 31;
  const int tile = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  uint32_t af[4], bf[2];
  float cf[4], df[4];
  for (int i = 0; i < 4; ++i) af[i] = a[(tile * 32 + lane) * 4 + i];
  for (int i = 0; i < 2; ++i) bf[i] = b[(tile * 32 + lane) * 2 + i];
  for (int i = 0; i < 4; ++i) cf[i] = c[(tile * 32 + lane) * 4 + i];
  if (kAlias) {
    if (kBf16) {
      mma_m16n8k16_bf16f32(cf, af, bf, cf);
    } else {
      mma_m16n8k16_f16f32(cf, af, bf, cf);
    }
    for (int i = 0; i < 4; ++i) df[i] = cf[i];
  } else {
    if (kBf16) {
      mma_m16n8k16_bf16f32(df, af, bf, cf);
    } else {
      mma_m16n8k16_f16f32(df, af, bf, cf);
    }
  }
  for (int i = 0; i < 4; ++i) d[(tile * 32 + lane) * 4 + i] = df[i];
}

// |D - exact| allowed for random inputs, relative to the sum of the addends' magnitudes.
// exact accumulation rounds once: a few fp32 ulps. The truncating model
// (docs/numerics.md, "Tensor-core accumulation") runs 2 passes of 9 addends (the
// running sum and 8 products); in a pass whose largest addend lies in
// [2^e, 2^(e+1)), each addend loses less than 2^(e-26) (fp32's 24 bits plus 3),
// and truncating the pass's sum to fp32 loses less than 2^-23 of it. Neither step
// grows a magnitude, so each pass errs by less than (9 * 2^-26 + 2^-23) * mag:
// 5.07e-7 * mag for the two.
double mma_tolerance() {
  if (emu::config().mma == emu::MmaAccumulate::exact) return 4e-7;
  return 2 * (9 * std::ldexp(1.0, -26) + std::ldexp(1.0, -23));
}

enum class Values { random, dyadic };

std::vector<Tile> make_tiles(int n, bool bf16, Values kind, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::uniform_int_distribution<int> k(-8, 8);
  auto val = [&] { return kind == Values::random ? u(rng) : float(k(rng)) / 8.0f; };
  std::vector<Tile> tiles(n);
  for (Tile& t : tiles) {
    for (auto& r : t.A)
      for (float& v : r) v = from_bits(to_bits(val(), bf16), bf16);
    for (auto& r : t.B)
      for (float& v : r) v = from_bits(to_bits(val(), bf16), bf16);
    for (auto& r : t.C)
      for (float& v : r) v = kind == Values::random ? u(rng) * 4.0f : float(k(rng)) / 4.0f;
  }
  return tiles;
}

template <bool kBf16, bool kAlias>
void check_mma(Values kind, uint64_t seed) {
  constexpr int kBlocks = 2, kWarps = 2, kTiles = kBlocks * kWarps;
  const std::vector<Tile> tiles = make_tiles(kTiles, kBf16, kind, seed);
  std::vector<uint32_t> a(kTiles * 32 * 4), b(kTiles * 32 * 2);
  std::vector<float> c(kTiles * 32 * 4);
  for (int t = 0; t < kTiles; ++t) make_fragments(tiles[t], kBf16, &a[t * 128], &b[t * 64], &c[t * 128]);
  std::vector<float> first;
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<float> d(c.size(), std::nanf(""));
    emu::launch(mma_kernel<kBf16, kAlias>, dim3(kBlocks), dim3(32 * kWarps), 0, a.data(), b.data(), c.data(),
                d.data());
    for (int t = 0; t < kTiles; ++t)
      for (int lane = 0; lane < 32; ++lane)
        for (int i = 0; i < 4; ++i) {
          const Pos p = c_pos(lane, i);
          double want = tiles[t].C[p.row][p.col], mag = std::fabs(want);
          for (int k = 0; k < 16; ++k) {
            want += double(tiles[t].A[p.row][k]) * tiles[t].B[k][p.col];
            mag += std::fabs(double(tiles[t].A[p.row][k]) * tiles[t].B[k][p.col]);
          }
          const float got = d[(t * 32 + lane) * 4 + i];
          if (kind == Values::dyadic) {
            ASSERT_EQ(got, float(want)) << s.name << " tile " << t << " D[" << p.row << "][" << p.col << "]";
          } else {
            // tensor cores accumulate in (about) fp32: a few fp32 ulps of the terms' magnitude
            ASSERT_NEAR(got, want, mma_tolerance() * mag + 1e-30) << s.name << " tile " << t << " D[" << p.row << "][" << p.col
                                                       << "]";
          }
        }
    if (first.empty()) {
      first = d;
    } else {
      ASSERT_EQ(0, std::memcmp(first.data(), d.data(), d.size() * 4)) << s.name << " differs from forward";
    }
  }
}

TEST(EmuMma, F16RandomMatchesFloat64) { check_mma<false, false>(Values::random, 1); }
TEST(EmuMma, Bf16RandomMatchesFloat64) { check_mma<true, false>(Values::random, 2); }
TEST(EmuMma, F16DyadicIsExact) { check_mma<false, false>(Values::dyadic, 3); }
TEST(EmuMma, Bf16DyadicIsExact) { check_mma<true, false>(Values::dyadic, 4); }
TEST(EmuMma, F16WithDAliasingC) { check_mma<false, true>(Values::random, 5); }
TEST(EmuMma, Bf16WithDAliasingC) { check_mma<true, true>(Values::dyadic, 6); }

// ---- the truncating accumulation (Config::mma = truncate) against a float64 model of it written from
// its description in docs/numerics.md: in each pass of 8 products, every addend is cut toward zero to a
// multiple of the largest addend's fp32 ulp / 2^3, and the exact sum of those is cut toward zero to fp32.
float truncating_model(float c, const Tile& t, int row, int col) {
  float acc = c;
  for (int pass = 0; pass < 2; ++pass) {
    double terms[9] = {acc};
    for (int k = 0; k < 8; ++k) terms[k + 1] = double(t.A[row][pass * 8 + k]) * t.B[pass * 8 + k][col];
    double largest = 0, sum = 0;
    for (double v : terms) largest = std::max(largest, std::fabs(v));
    if (largest == 0) {
      for (double v : terms) sum += v;
      acc = float(sum);
      continue;
    }
    const double unit = std::ldexp(1.0, std::ilogb(largest) - 23 - 3);
    for (double v : terms) sum += v - std::fmod(v, unit);  // fmod keeps v's sign: the cut is toward zero
    float f = float(sum);
    if (std::fabs(double(f)) > std::fabs(sum)) f = std::nextafter(f, 0.0f);
    acc = f;
  }
  return acc;
}

// D[row][col] of one tile through the emulated mma, accumulating as `mode` says.
std::vector<float> run_tile(const Tile& t, bool bf16, emu::MmaAccumulate mode) {
  uint32_t a[32 * 4], b[32 * 2];
  float c[32 * 4];
  make_fragments(t, bf16, a, b, c);
  ConfigScope scope;
  emu::Config config = scope.saved();
  config.mma = mode;
  scope.set(config);
  std::vector<float> d(32 * 4, std::nanf(""));
  if (bf16) {
    emu::launch(mma_kernel<true, false>, dim3(1), dim3(32), 0, a, b, c, d.data());
  } else {
    emu::launch(mma_kernel<false, false>, dim3(1), dim3(32), 0, a, b, c, d.data());
  }
  std::vector<float> D(16 * 8);
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      const Pos p = c_pos(lane, i);
      D[p.row * 8 + p.col] = d[lane * 4 + i];
    }
  return D;
}

// c = 1 plus sixteen products of 3 * 2^-28 (2^-14 times 3 * 2^-14, both exact in f16 and bf16): the
// exact sum 1 + 1.5 * 2^-23 rounds to 1 + 2^-22, but each product lies below the adder's last bit next
// to 1 (2^-26) and is dropped, so the tensor-core model gives 1.
TEST(EmuMma, TruncatingAccumulationDropsBitsBelowTheAdder) {
  for (bool bf16 : {false, true}) {
    Tile t{};
    for (auto& r : t.A)
      for (float& v : r) v = std::ldexp(1.0f, -14);
    for (auto& r : t.B)
      for (float& v : r) v = 3 * std::ldexp(1.0f, -14);
    for (auto& r : t.C)
      for (float& v : r) v = 1.0f;
    const std::vector<float> exact = run_tile(t, bf16, emu::MmaAccumulate::exact);
    const std::vector<float> truncated = run_tile(t, bf16, emu::MmaAccumulate::truncate);
    for (int i = 0; i < 16 * 8; ++i) {
      EXPECT_EQ(exact[i], 1.0f + std::ldexp(1.0f, -22)) << "bf16 " << bf16 << " element " << i;
      EXPECT_EQ(truncated[i], 1.0f) << "bf16 " << bf16 << " element " << i;
      EXPECT_EQ(truncated[i], truncating_model(1.0f, t, i / 8, i % 8)) << "bf16 " << bf16 << " element " << i;
    }
  }
}

// Random tiles, bit for bit against the float64 model; the two accumulations must differ somewhere,
// or this test would not see a truncating mode that quietly summed exactly.
TEST(EmuMma, TruncatingAccumulationMatchesFloat64Model) {
  for (bool bf16 : {false, true}) {
    int differ = 0;
    for (const Tile& t : make_tiles(8, bf16, Values::random, bf16 ? 32 : 31)) {
      const std::vector<float> exact = run_tile(t, bf16, emu::MmaAccumulate::exact);
      const std::vector<float> truncated = run_tile(t, bf16, emu::MmaAccumulate::truncate);
      for (int i = 0; i < 16 * 8; ++i) {
        ASSERT_EQ(truncated[i], truncating_model(t.C[i / 8][i % 8], t, i / 8, i % 8))
            << "bf16 " << bf16 << " D[" << i / 8 << "][" << i % 8 << "]";
        differ += truncated[i] != exact[i];
      }
    }
    EXPECT_GT(differ, 0) << "bf16 " << bf16;
  }
}

TEST(EmuMma, MmaAccumulationParsesItsEnvironmentValue) {
  emu::Config c;
  std::string error;
  ASSERT_TRUE(emu::parse_mma_accumulate("truncate", c, &error));
  EXPECT_EQ(c.mma, emu::MmaAccumulate::truncate);
  ASSERT_TRUE(emu::parse_mma_accumulate("exact", c, &error));
  EXPECT_EQ(c.mma, emu::MmaAccumulate::exact);
  EXPECT_FALSE(emu::parse_mma_accumulate("round", c, &error));
  EXPECT_NE(error.find("'round'"), std::string::npos) << error;
}

// Lanes 0..15 call the f16 mma, lanes 16..31 the bf16 one: reported, with the site.
__global__ void divergent_mma_kernel(float* d) {
  const uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  float c[4] = {0, 0, 0, 0};
  if ((threadIdx.x & 31) < 16) {
    mma_m16n8k16_f16f32(c, a, b, c);
  } else {
    mma_m16n8k16_bf16f32(c, a, b, c);
  }
  d[threadIdx.x] = c[0];
}

// A warp of 16 threads cannot run mma.sync.aligned.
__global__ void partial_warp_mma_kernel(float* d) {
  const uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  float c[4] = {0, 0, 0, 0};
  mma_m16n8k16_f16f32(c, a, b, c);
  d[threadIdx.x] = c[0];
}

TEST(EmuMma, DivergentAndPartialWarpMmaAreReported) {
  std::vector<float> d(32);
  const std::string divergent = emu_test::launch_error([&] { emu::launch(divergent_mma_kernel, dim3(1), dim3(32), 0, d.data()); });
  EXPECT_NE(divergent.find("emu_mma_test.cpp:"), std::string::npos) << divergent;
  EXPECT_NE(divergent.find("divergent warp collective"), std::string::npos) << divergent;
  const std::string partial = emu_test::launch_error([&] { emu::launch(partial_warp_mma_kernel, dim3(1), dim3(16), 0, d.data()); });
  EXPECT_NE(partial.find("emu_mma_test.cpp:"), std::string::npos) << partial;
  EXPECT_NE(partial.find("do not exist"), std::string::npos) << partial;
}

// ---- kernels/mma_probe.cu: cp.async (with zero-fill) -> ldmatrix.x4 / .x2.trans -> mma, through its launcher.
void check_probe(kdtype dtype, int a_rows, Values kind, uint64_t seed) {
  const bool bf16 = dtype == kdtype::bf16;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::uniform_int_distribution<int> k(-8, 8);
  auto val = [&] { return kind == Values::random ? u(rng) : float(k(rng)) / 8.0f; };
  std::vector<float> av(16 * 16), bv(16 * 8);
  for (float& v : av) v = val();
  for (float& v : bv) v = val();
  emu_test::DeviceArray a(dtype, av), b(dtype, bv), c(kdtype::f32, 16 * 8);
  const std::vector<float> ar = a.download(), br = b.download();  // as stored (rounded)
  std::vector<uint8_t> first;
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    c.poison();
    ASSERT_EQ(mma_probe(nullptr, a.data(), b.data(), c.as<float>(), a_rows, dtype), KSTATUS_OK) << klast_error();
    const std::vector<float> got = c.download();
    for (int m = 0; m < 16; ++m)
      for (int n = 0; n < 8; ++n) {
        double want = 0, mag = 0;
        if (m < a_rows)
          for (int kk = 0; kk < 16; ++kk) {
            want += double(ar[m * 16 + kk]) * br[kk * 8 + n];
            mag += std::fabs(double(ar[m * 16 + kk]) * br[kk * 8 + n]);
          }
        if (kind == Values::dyadic || m >= a_rows) {
          ASSERT_EQ(got[m * 8 + n], float(want)) << s.name << " C[" << m << "][" << n << "]";
        } else {
          ASSERT_NEAR(got[m * 8 + n], want, mma_tolerance() * mag + 1e-30) << s.name << " C[" << m << "][" << n << "]";
        }
      }
    if (first.empty()) {
      first = c.bytes();
    } else {
      EXPECT_EQ(c.bytes(), first) << s.name << " differs from forward";
    }
  }
}

TEST(EmuMma, ProbeKernelF16) {
  check_probe(kdtype::f16, 16, Values::random, 11);
  check_probe(kdtype::f16, 16, Values::dyadic, 12);
  check_probe(kdtype::f16, 5, Values::random, 13);
}
TEST(EmuMma, ProbeKernelBf16) {
  check_probe(kdtype::bf16, 16, Values::random, 21);
  check_probe(kdtype::bf16, 16, Values::dyadic, 22);
  check_probe(kdtype::bf16, 11, Values::random, 23);
}
TEST(EmuMma, ProbeLauncherChecksItsArguments) {
  emu_test::DeviceArray a(kdtype::f16, 16 * 16 + 8), b(kdtype::f16, 16 * 8), c(kdtype::f32, 16 * 8);
  EXPECT_EQ(mma_probe(nullptr, a.data(), b.data(), c.as<float>(), 16, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(mma_probe(nullptr, a.data(), b.data(), c.as<float>(), 0, kdtype::f16), KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(mma_probe(nullptr, a.as<uint16_t>() + 1, b.data(), c.as<float>(), 16, kdtype::f16),
            KSTATUS_INVALID_ARGUMENT);
}

}  // namespace
