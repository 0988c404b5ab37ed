// kernels/include/block_reduce.cuh (the reduction of rmsnorm.cu, bt_loss.cu and
// grad_norm.cu): exact and identical on every thread, in every schedule, called
// twice in a row with one scratch; and proof that the emulator would catch a
// missing barrier in it: each of its two __syncthreads removed from a copy
// makes some schedule give a wrong result.
#include <gtest/gtest.h>

#include <vector>

#include "block_reduce.cuh"
#include "emu_test_util.h"

namespace {

// The reduction as block_reduce.cuh has it, with one of its barriers dropped.
template <int kDropped>
__device__ float broken_block_reduce_sum(float v, float* scratch) {
  v = warp_reduce_sum(v);
  const int warps = int(blockDim.x) >> 5;
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  if (kDropped != 1) __syncthreads();
  float total = scratch[0];
  for (int w = 1; w < warps; ++w) total += scratch[w];
  if (kDropped != 2) __syncthreads();
  return total;
}

// Two reductions in a row (as rmsnorm's row loop and bt_loss's two sums do):
// out[2 t] and out[2 t + 1] get the block sums of in and of 2 * in.
template <int kDropped>
__global__ void reduce_twice_kernel(const float* in, float* out) {
  EMU_SHARED(float, scratch, [32]);
  const float v = in[blockIdx.x * blockDim.x + threadIdx.x];
  float a, b;
  if constexpr (kDropped == 0) {
    a = block_reduce_sum(v, scratch);
    b = block_reduce_sum(2.0f * v, scratch);
  } else {
    a = broken_block_reduce_sum<kDropped>(v, scratch);
    b = broken_block_reduce_sum<kDropped>(2.0f * v, scratch);
  }
  out[2 * (blockIdx.x * blockDim.x + threadIdx.x)] = a;
  out[2 * (blockIdx.x * blockDim.x + threadIdx.x) + 1] = b;
}

// Small integers: every association gives the exact sum.
constexpr int kBlocks = 3, kThreads = 256;
std::vector<float> inputs() {
  std::vector<float> in(kBlocks * kThreads);
  for (size_t i = 0; i < in.size(); ++i) in[i] = float(int(i * 37 % 11) - 5);
  return in;
}

template <int kDropped>
bool correct_in(const emu_test::Schedule& s) {
  emu_test::ConfigScope scope(s);
  const std::vector<float> in = inputs();
  std::vector<float> out(in.size() * 2, 0.0f);
  emu::launch(reduce_twice_kernel<kDropped>, dim3(kBlocks), dim3(kThreads), 0, in.data(), out.data());
  for (int b = 0; b < kBlocks; ++b) {
    float sum = 0;
    for (int t = 0; t < kThreads; ++t) sum += in[size_t(b * kThreads + t)];
    for (int t = 0; t < kThreads; ++t) {
      const size_t i = size_t(b * kThreads + t);
      if (out[2 * i] != sum || out[2 * i + 1] != 2 * sum) return false;
    }
  }
  return true;
}

TEST(EmuBlockReduce, ExactOnEveryThreadInEverySchedule) {
  for (const auto& s : emu_test::schedules()) EXPECT_TRUE(correct_in<0>(s)) << s.name;
}

TEST(EmuBlockReduce, EmulatorCatchesEachMissingBarrier) {
  for (int dropped : {1, 2}) {
    int failures = 0;
    for (const auto& s : emu_test::schedules()) failures += dropped == 1 ? !correct_in<1>(s) : !correct_in<2>(s);
    EXPECT_GT(failures, 0) << "barrier " << dropped << " removed, yet every schedule gave the right sums";
  }
}

}  // namespace
