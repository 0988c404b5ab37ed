// What the emulator reports instead of crashing or hanging: divergent
// __syncthreads (different call sites, or threads already exited), a warp
// collective called by a lane outside its mask or by lanes at different ops,
// deadlock, an exception thrown by kernel code, and guard-byte overruns of
// device allocations. Each report fails the launch with emu::LaunchError
// whose message starts with "file:line: ".
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "emu_test_util.h"

namespace {

using emu_test::ConfigScope;
using emu_test::contains;
using emu_test::launch_error;

int g_line_a = 0, g_line_b = 0;

std::string here(int line) { return emu_test::site(__FILE__, line); }

__global__ void two_barriers_kernel() {
  if (threadIdx.x < 16) {
    g_line_a = __LINE__; __syncthreads();
  } else {
    g_line_b = __LINE__; __syncthreads();
  }
}

TEST(EmuErrors, DivergentSyncthreadsIsReportedWithBothCallSites) {
  for (const auto& s : emu_test::schedules()) {
    ConfigScope scope(s);
    const std::string error = launch_error([] { emu::launch(two_barriers_kernel, dim3(2), dim3(32), 0); });
    EXPECT_TRUE(contains(error, "divergent __syncthreads")) << error;
    EXPECT_TRUE(contains(error, here(g_line_a))) << error;
    EXPECT_TRUE(contains(error, here(g_line_b))) << error;
    EXPECT_EQ(error.rfind(std::string(__FILE__), 0), 0u) << "message must start with file:line: " << error;
    EXPECT_TRUE(contains(error, "[block (0,0,0)]")) << error;
  }
}

__global__ void exit_before_barrier_kernel(int* out) {
  if (threadIdx.x < 16) return;
  g_line_a = __LINE__; __syncthreads();
  out[threadIdx.x] = 1;
}

TEST(EmuErrors, BarrierAfterSomeThreadsExitedIsReportedInStrictMode) {
  std::vector<int> out(32, 0);
  const std::string error = launch_error([&] { emu::launch(exit_before_barrier_kernel, dim3(1), dim3(32), 0, out.data()); });
  EXPECT_TRUE(contains(error, here(g_line_a) + ": divergent __syncthreads")) << error;
  EXPECT_TRUE(contains(error, "16 thread(s) of the block had already exited")) << error;

  ConfigScope scope;
  emu::Config relaxed = scope.saved();
  relaxed.strict = false;  // exited threads then count as arrived, as on current GPUs
  scope.set(relaxed);
  EXPECT_EQ(launch_error([&] { emu::launch(exit_before_barrier_kernel, dim3(1), dim3(32), 0, out.data()); }), "");
  EXPECT_EQ(out[31], 1);
}

__global__ void lane_outside_mask_kernel(float* out) {
  g_line_a = __LINE__; out[threadIdx.x] = __shfl_sync(0x0000ffffu, float(threadIdx.x), 0);
}

TEST(EmuErrors, ShuffleByALaneOutsideItsMaskIsReported) {
  std::vector<float> out(32, 0);
  const std::string error = launch_error([&] { emu::launch(lane_outside_mask_kernel, dim3(1), dim3(32), 0, out.data()); });
  EXPECT_TRUE(contains(error, here(g_line_a) + ": __shfl_sync: lane ")) << error;
  EXPECT_TRUE(contains(error, "is not in mask 0x0000ffff")) << error;
}

__global__ void mask_beyond_block_kernel(float* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);  // only 8 lanes exist
}

TEST(EmuErrors, MaskNamingLanesThatDoNotExistIsReported) {
  std::vector<float> out(8, 0);
  const std::string error = launch_error([&] { emu::launch(mask_beyond_block_kernel, dim3(1), dim3(8), 0, out.data()); });
  EXPECT_TRUE(contains(error, "names lanes that do not exist")) << error;
}

__global__ void different_ops_kernel(unsigned* out) {
  if (threadIdx.x & 1) {
    out[threadIdx.x] = __ballot_sync(0xffffffffu, 1);
  } else {
    out[threadIdx.x] = __shfl_sync(0xffffffffu, 5u, 0);
  }
}

TEST(EmuErrors, LanesOfOneWarpAtDifferentCollectivesAreReported) {
  std::vector<unsigned> out(32, 0);
  const std::string error = launch_error([&] { emu::launch(different_ops_kernel, dim3(1), dim3(32), 0, out.data()); });
  EXPECT_TRUE(contains(error, "divergent warp collective in warp 0")) << error;
}

__global__ void half_warp_shuffle_kernel(float* out) {
  float v = float(threadIdx.x);
  if (threadIdx.x < 16) {
    g_line_a = __LINE__; v = __shfl_down_sync(0xffffffffu, v, 1);  // lanes 16..31 never come
  }
  out[threadIdx.x] = v;
}

TEST(EmuErrors, DeadlockIsReportedWithThreadsAndLines) {
  for (const auto& s : emu_test::schedules()) {
    ConfigScope scope(s);
    std::vector<float> out(32, 0);
    const std::string error =
        launch_error([&] { emu::launch(half_warp_shuffle_kernel, dim3(1), dim3(32), 0, out.data()); });
    EXPECT_TRUE(contains(error, here(g_line_a) + ": deadlock")) << error;
    EXPECT_TRUE(contains(error, "16 thread(s) not finished")) << error;
    EXPECT_TRUE(contains(error, "thread (0,0,0) and the 15 thread(s) after it wait in __shfl_down_sync")) << error;
  }
}

__global__ void throwing_kernel() {
  if (blockIdx.x == 2 && threadIdx.x == 5) throw std::runtime_error("kernel code failed");
  __syncthreads();
}

TEST(EmuErrors, ExceptionFromKernelCodeFailsTheLaunchAndUnwindsTheBlock) {
  const std::string error = launch_error([] { emu::launch(throwing_kernel, dim3(4), dim3(64), 0); });
  EXPECT_TRUE(contains(error, "kernel code failed [block (2,0,0)]")) << error;
  // The emulator is still usable afterwards.
  EXPECT_EQ(launch_error([] { emu::launch(throwing_kernel, dim3(1), dim3(64), 0); }), "");
}

__global__ void overrun_kernel(float* p, int n, int offset) {
  const int i = int(threadIdx.x) + offset;
  if (i < n) p[i] = 1.0f;
}

TEST(EmuErrors, GuardBytesNameTheOverrunAllocation) {
  auto* good = static_cast<float*>(emu::device_alloc(64 * sizeof(float), "weights"));
  auto* bad = static_cast<float*>(emu::device_alloc(64 * sizeof(float), "activations"));
  std::string error = launch_error([&] { emu::launch(overrun_kernel, dim3(1), dim3(64), 0, good, 64, 0); });
  EXPECT_EQ(error, "");
  error = launch_error([&] { emu::launch(overrun_kernel, dim3(1), dim3(66), 0, bad, 66, 0); });
  EXPECT_EQ(error, "guard bytes overrun: allocation 'activations' (256 bytes) was written 8 byte(s) past its end");
  error = launch_error([&] { emu::launch(overrun_kernel, dim3(1), dim3(64), 0, bad, 63, -1); });
  EXPECT_EQ(error, "guard bytes overrun: allocation 'activations' (256 bytes) was written 4 byte(s) before its start");
  EXPECT_EQ(emu::check_guards(), "") << "guards are re-armed after a report";
  emu::device_free(good);
  emu::device_free(bad);
}

TEST(EmuErrors, BadLaunchConfigurationsAreRefused) {
  EXPECT_TRUE(contains(launch_error([] { emu::launch(throwing_kernel, dim3(1), dim3(2048), 0); }), "1..1024 threads"));
  EXPECT_TRUE(contains(launch_error([] { emu::launch(throwing_kernel, dim3(0), dim3(32), 0); }), "out of CUDA's limits"));
}

}  // namespace
