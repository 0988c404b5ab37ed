// Probes of what a GPU enforces and the emulator must not let pass: each kernel
// here has a bug that works on a CPU (a misaligned access, lanes at different
// .aligned call sites, too much shared memory, a block over its launch bound, a
// register read before written, blocks depending on each other's writes, a
// spin-wait, a cp.async from memory that is not device memory) and the test
// expects the emulator to report it, name its line, or make the result visibly wrong.
#include <gtest/gtest.h>
#include <gtest/gtest-spi.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cp_async.cuh"
#include "emu_test_util.h"
#include "ldmatrix.cuh"

namespace {

using emu_test::contains;

// Lines the kernels below record, for the expected messages to name.
int g_line_a = 0, g_line_b = 0;

std::string here(int line) { return emu_test::site(__FILE__, line); }

// ------------------------------------------------------------ 16-byte accesses

template <int kHow>  // 0: ld128, 1: st128, 2: load16, 3: store16
__global__ void misaligned_16_kernel(float* data) {
  float* p = data + 1;  // 4 bytes past a 16-byte boundary
  if (kHow == 0) {
    g_line_a = __LINE__; const uint4 v = ld128(p);
    data[8] = float(v.x);
  } else if (kHow == 1) {
    g_line_a = __LINE__; st128(p, uint4{1, 2, 3, 4});
  } else if (kHow == 2) {
    g_line_a = __LINE__; const Pack16<float> v = load16(p);
    data[8] = v.v[0];
  } else {
    Pack16<float> v{};
    g_line_a = __LINE__; store16(p, v);
  }
}

template <int kHow>
void expect_misaligned_16_reported(const char* what) {
  emu_test::DeviceArray data(kdtype::f32, 16);
  const std::string error = emu_test::launch_error(
      [&] { emu::launch(misaligned_16_kernel<kHow>, dim3(1), dim3(1), 0, data.as<float>()); });
  EXPECT_EQ(error.rfind(here(g_line_a) + ": " + what, 0), 0u) << error;
  EXPECT_TRUE(contains(error, "is not 16-byte aligned")) << error;
}

TEST(EmuFidelity, Misaligned16ByteAccessIsReportedAtItsLine) {
  expect_misaligned_16_reported<0>("ld128");
  expect_misaligned_16_reported<1>("st128");
  expect_misaligned_16_reported<2>("ld128");
  expect_misaligned_16_reported<3>("st128");
}

// ------------------------------------------------------------ typed accesses (-fsanitize=alignment)

__global__ void misaligned_float4_kernel(const float* in, float* out) {
  const char* bytes = reinterpret_cast<const char*>(in) + 4;
  g_line_a = __LINE__; out[0] = reinterpret_cast<const float4*>(bytes)->y;
}

TEST(EmuFidelity, MisalignedTypedAccessIsReportedAtItsLine) {
  emu_test::DeviceArray in(kdtype::f32, std::vector<float>(8, 1.0f)), out(kdtype::f32, 1);
  const std::string error =
      emu_test::launch_error([&] { emu::launch(misaligned_float4_kernel, dim3(1), dim3(1), 0, in.as<const float>(),
                                               out.as<float>()); });
  EXPECT_EQ(error.rfind(here(g_line_a) + ": misaligned", 0), 0u) << error;
  EXPECT_TRUE(contains(error, "float4'")) << error;
  EXPECT_TRUE(contains(error, "16-byte alignment")) << error;
}

// ------------------------------------------------------------ .aligned warp instructions

__global__ void divergent_ldmatrix_kernel(uint32_t* out) {
  uint16_t* s = emu_dynamic_smem<uint16_t>();
  for (int i = threadIdx.x; i < 64 * 8; i += blockDim.x) s[i] = uint16_t(i);
  __syncthreads();
  const int lane = threadIdx.x & 31;
  uint32_t r[4];
  // The same instruction with the same operands, written twice: legal on a CPU, not for .aligned.
  if (lane < 16) {
    g_line_a = __LINE__; ldmatrix_x4(r, s + lane * 8);
  } else {
    g_line_b = __LINE__; ldmatrix_x4(r, s + lane * 8);
  }
  for (int j = 0; j < 4; ++j) out[threadIdx.x * 4 + j] = r[j];
}

TEST(EmuFidelity, LdmatrixFromTwoBranchesIsReportedWithBothSites) {
  std::vector<uint32_t> out(32 * 4);
  for (const auto& s : emu_test::schedules()) {
    emu_test::ConfigScope scope(s);
    const std::string error =
        emu_test::launch_error([&] { emu::launch(divergent_ldmatrix_kernel, dim3(1), dim3(32), 64 * 16, out.data()); });
    EXPECT_TRUE(contains(error, "different call sites")) << s.name << ": " << error;
    EXPECT_TRUE(contains(error, here(g_line_a))) << s.name << ": " << error;
    EXPECT_TRUE(contains(error, here(g_line_b))) << s.name << ": " << error;
  }
}

// ------------------------------------------------------------ shared memory limits

__global__ void dynamic_smem_kernel(float* out) { out[0] = emu_dynamic_smem<float>()[0]; }

template <size_t kStaticFloats>
__global__ void static_smem_kernel(float* out) {
  g_line_a = __LINE__; EMU_SHARED(float, tile, [kStaticFloats]);
  tile[threadIdx.x] = 1.0f;
  out[0] = tile[0];
}

TEST(EmuFidelity, DynamicSharedMemoryIsCheckedAgainstTheArchitecture) {
  float out = 0;
  const size_t kib200 = 200u << 10;
  const std::string error =
      emu_test::launch_error([&] { emu::launch(dynamic_smem_kernel, dim3(1), dim3(32), kib200, &out); });
  EXPECT_TRUE(contains(error, std::to_string(kib200) + " bytes of dynamic shared memory exceed sm_80's 166912"))
      << error;
  emu_test::ConfigScope scope;
  emu::Config sm90 = scope.saved();
  sm90.arch = emu::Arch::sm_90;
  scope.set(sm90);
  EXPECT_EQ(emu_test::launch_error([&] { emu::launch(dynamic_smem_kernel, dim3(1), dim3(32), kib200, &out); }), "");
  const std::string over =
      emu_test::launch_error([&] { emu::launch(dynamic_smem_kernel, dim3(1), dim3(32), 228u << 10, &out); });
  EXPECT_TRUE(contains(over, "exceed sm_90's 232448")) << over;
}

TEST(EmuFidelity, StaticSharedMemoryCountsTowardsTheLimits) {
  float out = 0;
  // 40 KiB static is legal alone, but not with 130 KiB dynamic on sm_80 (163 KiB per block).
  EXPECT_EQ(emu_test::launch_error([&] { emu::launch(static_smem_kernel<10240>, dim3(1), dim3(32), 0, &out); }), "");
  std::string error =
      emu_test::launch_error([&] { emu::launch(static_smem_kernel<10240>, dim3(1), dim3(32), 130u << 10, &out); });
  EXPECT_EQ(error.rfind(here(g_line_a) + ": EMU_SHARED of 40960 bytes", 0), 0u) << error;
  EXPECT_TRUE(contains(error, "sm_80")) << error;
  // 64 KiB static exceeds the 48 KiB any __shared__ array may have.
  error = emu_test::launch_error([&] { emu::launch(static_smem_kernel<16384>, dim3(1), dim3(32), 0, &out); });
  EXPECT_TRUE(contains(error, "49152 static")) << error;
}

// ------------------------------------------------------------ __launch_bounds__

__global__ void __launch_bounds__(64) bounded_kernel(float* out) {
  g_line_a = __LINE__; kernel_launch_bounds(64);
  out[threadIdx.x] = 1.0f;
}

TEST(EmuFidelity, LaunchOverTheKernelsBoundIsReported) {
  std::vector<float> out(128, 0.0f);
  EXPECT_EQ(emu_test::launch_error([&] { emu::launch(bounded_kernel, dim3(2), dim3(64), 0, out.data()); }), "");
  const std::string error =
      emu_test::launch_error([&] { emu::launch(bounded_kernel, dim3(1), dim3(128), 0, out.data()); });
  EXPECT_EQ(error.rfind(here(g_line_a) + ": a block of 128 threads", 0), 0u) << error;
  EXPECT_TRUE(contains(error, "__launch_bounds__ of 64")) << error;
}

// ------------------------------------------------------------ uninitialised registers

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__global__ void uninitialised_accumulator_kernel(const float* in, float* out) {
  float acc[4];  // the bug: never set to zero
  for (int i = 0; i < 16; ++i) acc[i % 4] += in[i];
  for (int k = 0; k < 4; ++k) out[threadIdx.x * 4 + k] = acc[k];
}
#pragma GCC diagnostic pop

TEST(EmuFidelity, UninitialisedAccumulatorGivesAVisiblyWrongResult) {
  std::vector<float> in(16);
  for (int i = 0; i < 16; ++i) in[i] = float(i);
  std::vector<float> out(2 * 4, 0.0f);
  // A second launch reuses the first one's fiber stacks: no zeroed memory to hide the bug either time.
  for (int launch = 0; launch < 2; ++launch) {
    emu::launch(uninitialised_accumulator_kernel, dim3(1), dim3(2), 0, in.data(), out.data());
    for (int k = 0; k < 8; ++k) {
      const float clean = in[k % 4] + in[k % 4 + 4] + in[k % 4 + 8] + in[k % 4 + 12];
      EXPECT_TRUE(!std::isfinite(out[k]) || std::fabs(out[k] - clean) > 1e30f)
          << "launch " << launch << " acc[" << k % 4 << "] = " << out[k] << " looks like a clean sum of " << clean;
    }
  }
}

// ------------------------------------------------------------ block order

// Each block adds one to what the block before it wrote: only ascending order gives 1, 2, 3, ...
__global__ void chained_blocks_kernel(float* out) {
  if (threadIdx.x != 0) return;
  const float before = blockIdx.x == 0 ? 0.0f : out[blockIdx.x - 1];
  out[blockIdx.x] = before + 1.0f;
}

void compare_chained_blocks_across_schedules() {
  emu_test::expect_same_bits_in_every_schedule(
      [] {
        emu_test::DeviceArray out(kdtype::f32, 16);
        emu::launch(chained_blocks_kernel, dim3(16), dim3(32), 0, out.as<float>());
        return out.bytes();
      },
      "chained blocks");
}

TEST(EmuFidelity, BlockOrderSchedulesExposeACrossBlockDependency) {
  emu_test::ConfigScope scope;
  emu::Config one_thread = scope.saved();
  one_thread.threads = 1;  // blocks start in exactly the schedule's order
  scope.set(one_thread);
  // The harness's own failures, intercepted: exactly the two block orders must report a difference.
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter intercept(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    compare_chained_blocks_across_schedules();
  }
  std::string messages;
  for (int i = 0; i < failures.size(); ++i) messages += std::string(failures.GetTestPartResult(i).message()) + "\n";
  EXPECT_EQ(failures.size(), 2) << messages;
  EXPECT_TRUE(contains(messages, "forward,blocks=reverse differs from forward")) << messages;
  EXPECT_TRUE(contains(messages, "forward,blocks=random:1 differs from forward")) << messages;
}

__global__ void count_runs_kernel(int* runs) {
  if (threadIdx.x == 0) ++runs[blockIdx.x + blockIdx.y * gridDim.x];
}

TEST(EmuFidelity, EveryBlockRunsOnceInEveryBlockOrder) {
  for (const auto& s : emu_test::schedules()) {
    emu_test::ConfigScope scope(s);
    std::vector<int> runs(1000, 0);
    emu::launch(count_runs_kernel, dim3(10, 100), dim3(32), 0, runs.data());
    for (int b = 0; b < 1000; ++b) ASSERT_EQ(runs[b], 1) << s.name << " block " << b;
  }
}

TEST(EmuFidelity, ScheduleTextTakesABlockOrder) {
  emu::Config c;
  std::string error;
  EXPECT_TRUE(emu::parse_schedule("greedy,blocks=random:9", c, &error)) << error;
  EXPECT_EQ(c.order, emu::Order::greedy);
  EXPECT_EQ(c.block_order, emu::BlockOrder::random);
  EXPECT_EQ(c.block_seed, 9u);
  EXPECT_TRUE(emu::parse_schedule("random:3,blocks=reverse", c, &error)) << error;
  EXPECT_EQ(c.order, emu::Order::random);
  EXPECT_EQ(c.seed, 3u);
  EXPECT_EQ(c.block_order, emu::BlockOrder::reverse);
  for (const char* bad : {"forward,blocks=greedy", "forward,blocks=", "forward,reverse", "sideways,blocks=reverse"}) {
    emu::Config before = c;
    EXPECT_FALSE(emu::parse_schedule(bad, c, &error)) << bad;
    EXPECT_TRUE(contains(error, "THREADS[,blocks=BLOCKS]")) << error;
    EXPECT_EQ(c.block_order, before.block_order) << bad << " changed the config";
  }
}

// ------------------------------------------------------------ spin-wait watchdog

constexpr int kSpinBarrierLine = __LINE__ + 2;
__global__ void spin_kernel(const int* flag) {
  __syncthreads();
  while (*reinterpret_cast<const volatile int*>(flag) == 0) {
  }
}

TEST(EmuFidelityDeathTest, SpinWaitIsReportedByTheWatchdog) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        emu::Config c = emu::config();
        c.watchdog_seconds = 0.5;
        emu::set_config(c);
        int flag = 0;  // nothing ever sets it
        emu::launch(spin_kernel, dim3(1), dim3(32), 0, &flag);
      },
      "emulator watchdog: spin-wait\\? " + here(kSpinBarrierLine) + ": thread \\([0-9]+,0,0\\) of block \\(0,0,0\\)");
}

// ------------------------------------------------------------ cp.async sources

__global__ void cp_async_from_kernel(const float* src, float* out) {
  float* s = emu_dynamic_smem<float>();
  g_line_a = __LINE__; cp_async_16(s + threadIdx.x * 4, src + threadIdx.x * 4);
  cp_async_commit();
  cp_async_wait<0>();
  out[threadIdx.x] = s[threadIdx.x * 4];
}

TEST(EmuFidelity, CpAsyncFromMemoryThatIsNotDeviceMemoryIsReported) {
  emu_test::DeviceArray out(kdtype::f32, 32);
  {
    emu_test::DeviceArray live(kdtype::f32, std::vector<float>(128, 2.0f));
    EXPECT_EQ(emu_test::launch_error([&] {
                emu::launch(cp_async_from_kernel, dim3(1), dim3(32), 512, live.as<const float>(), out.as<float>());
              }),
              "");
    EXPECT_EQ(out.download(), std::vector<float>(32, 2.0f));
  }
  float* freed = static_cast<float*>(emu::device_alloc(512, "freed"));
  emu::device_free(freed);
  alignas(16) static float host[128] = {};
  for (const float* src : {static_cast<const float*>(freed), static_cast<const float*>(host)}) {
    const std::string error =
        emu_test::launch_error(
            [&] { emu::launch(cp_async_from_kernel, dim3(1), dim3(32), 512, src, out.as<float>()); });
    EXPECT_EQ(error.rfind(here(g_line_a) + ": cp.async", 0), 0u) << error;
    EXPECT_TRUE(contains(error, "not inside a live device allocation")) << error;
  }
}

// ------------------------------------------------------------ guard bytes

bool is_nan_f32(const unsigned char* p) {
  float f;
  std::memcpy(&f, p, 4);
  return std::isnan(f);
}
// Decoded by hand rather than with the converters under test: exponent all ones, mantissa nonzero.
bool is_nan_f16(const unsigned char* p) {
  const unsigned h = p[0] | p[1] << 8;
  return (h & 0x7C00u) == 0x7C00u && (h & 0x03FFu) != 0;
}
bool is_nan_bf16(const unsigned char* p) {
  const unsigned h = p[0] | p[1] << 8;
  return (h & 0x7F80u) == 0x7F80u && (h & 0x007Fu) != 0;
}

TEST(EmuFidelity, GuardBytesReadAsNanInEveryFloatFormat) {
  for (size_t bytes : {0u, 1u, 2u, 3u, 5u, 6u, 64u, 131u}) {
    auto* user = static_cast<unsigned char*>(emu::device_alloc(bytes, "guarded"));
    const uintptr_t begin = reinterpret_cast<uintptr_t>(user), end = begin + bytes;
    // Every aligned window in the 64 bytes on each side that does not overlap the allocation.
    for (uintptr_t a = begin - 64; a < end + 64; a += 2) {
      const auto* p = reinterpret_cast<const unsigned char*>(a);
      const std::string at = std::to_string(bytes) + " bytes, offset " + std::to_string(ptrdiff_t(a - begin));
      if (a + 2 <= begin || a >= end) {
        EXPECT_TRUE(is_nan_f16(p)) << at;
        EXPECT_TRUE(is_nan_bf16(p)) << at;
      }
      if (a % 4 == 0 && (a + 4 <= begin || a >= end)) {
        EXPECT_TRUE(is_nan_f32(p)) << at;
      }
    }
    EXPECT_EQ(emu::check_guards(), "");
    emu::device_free(user);
  }
}

}  // namespace
