// The emulator's execution model: index variables, the block barrier under
// every schedule (and a missing barrier caught by at least one), poisoned
// shared memory, warp shuffles of every kind and width against the CUDA
// documentation's rules, ballot, shared-memory isolation between blocks that
// run on two OS threads at once, and a large grid finishing in reasonable time.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "emu_test_util.h"
#include "warp_reduce.cuh"

namespace {

using emu_test::ConfigScope;
using emu_test::schedules;

__global__ void index_kernel(unsigned* out) {
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  unsigned* o = out + 12 * (b * blockDim.x * blockDim.y * blockDim.z + t);
  const unsigned v[12] = {threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z,
                          blockDim.x,  blockDim.y,  blockDim.z,  gridDim.x,  gridDim.y,  gridDim.z};
  for (int i = 0; i < 12; ++i) o[i] = v[i];
}

TEST(EmuRuntime, IndexVariablesCoverTheGridInCudaOrder) {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  std::vector<unsigned> out(12 * 12 * 24, 0xdeadbeef);
  emu::launch(index_kernel, grid, block, 0, out.data());
  size_t k = 0;
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 2; ++by)
      for (unsigned bx = 0; bx < 3; ++bx)
        for (unsigned tz = 0; tz < 2; ++tz)
          for (unsigned ty = 0; ty < 3; ++ty)
            for (unsigned tx = 0; tx < 4; ++tx, k += 12) {
              const unsigned want[12] = {tx, ty, tz, bx, by, bz, 4, 3, 2, 3, 2, 2};
              for (int i = 0; i < 12; ++i) ASSERT_EQ(out[k + i], want[i]) << "thread " << k / 12 << " field " << i;
            }
}

// Tree reduction through shared memory; `barrier` false drops the barrier
// inside the tree: a reader may then see a partial sum not yet written.
template <bool kBarrier>
__global__ void block_sum_kernel(const float* in, float* out) {
  EMU_SHARED(float, s, [256]);
  const unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * 256 + t];
  __syncthreads();  // every s[t] is written before any thread reads a neighbour's
  for (unsigned stride = 128; stride > 0; stride >>= 1) {
    if (t < stride) s[t] += s[t + stride];
    if (kBarrier) __syncthreads();  // this round's sums are complete before the next round reads them
  }
  if (t == 0) out[blockIdx.x] = s[0];
}

std::vector<float> small_integers(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(int(i * 7919 % 17) - 8);  // exact sums in any order
  return v;
}

TEST(EmuRuntime, BlockReductionWithBarriersIsRightInEverySchedule) {
  const int blocks = 6;
  const std::vector<float> in = small_integers(blocks * 256);
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<float> out(blocks, -1.0f);
    emu::launch(block_sum_kernel<true>, dim3(blocks), dim3(256), 0, in.data(), out.data());
    for (int b = 0; b < blocks; ++b) {
      float want = 0;
      for (int i = 0; i < 256; ++i) want += in[b * 256 + i];
      EXPECT_EQ(out[b], want) << s.name << " block " << b;
    }
  }
}

// The key property of the schedules: a missing barrier changes the result.
TEST(EmuRuntime, MissingBarrierGivesAWrongAnswerInSomeSchedule) {
  const int blocks = 4;
  const std::vector<float> in = small_integers(blocks * 256);
  std::vector<std::string> caught;
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<float> out(blocks, -1.0f);
    emu::launch(block_sum_kernel<false>, dim3(blocks), dim3(256), 0, in.data(), out.data());
    bool wrong = false;
    for (int b = 0; b < blocks; ++b) {
      float want = 0;
      for (int i = 0; i < 256; ++i) want += in[b * 256 + i];
      wrong |= !(out[b] == want);
    }
    if (wrong) caught.push_back(s.name);
  }
  std::string list;
  for (auto& c : caught) list += c + " ";
  std::printf("missing barrier in the tree reduction caught by: %s\n", list.c_str());
  EXPECT_FALSE(caught.empty()) << "no schedule exposed the missing __syncthreads";
}

// out[t] = s[t - 1] with no barrier between the write and the read: forward
// and greedy orders hide it (thread t-1 ran first), reverse and random expose it.
__global__ void neighbour_without_barrier_kernel(float* out) {
  EMU_SHARED(float, s, [64]);
  const unsigned t = threadIdx.x;
  s[t] = float(t);
  out[t] = t == 0 ? 0.0f : s[t - 1];
}

TEST(EmuRuntime, NeighbourReadWithoutBarrierIsCaughtByReverseAndRandom) {
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<float> out(64, -1.0f);
    emu::launch(neighbour_without_barrier_kernel, dim3(1), dim3(64), 0, out.data());
    bool right = true;
    for (unsigned t = 1; t < 64; ++t) right &= out[t] == float(t - 1);
    EXPECT_EQ(right, s.order == emu::Order::forward || s.order == emu::Order::greedy) << s.name;
  }
}

__global__ void poison_kernel(uint32_t* out, uint8_t* dyn_out) {
  EMU_SHARED(uint32_t, s, [32]);
  const unsigned t = threadIdx.x;
  out[blockIdx.x * 32 + t] = s[t];  // never written in this block: poison
  dyn_out[blockIdx.x * 32 + t] = emu_dynamic_smem<uint8_t>()[t];
  __syncthreads();
  s[t] = 7;  // the next block must not see this
  emu_dynamic_smem<uint8_t>()[t] = 7;
}

TEST(EmuRuntime, UnwrittenSharedMemoryReadsAsPoisonInEveryBlock) {
  ConfigScope scope;
  emu::Config c = scope.saved();
  c.threads = 1;  // one OS thread: every block reuses the same thread's memory
  scope.set(c);
  std::vector<uint32_t> out(4 * 32, 0);
  std::vector<uint8_t> dyn(4 * 32, 0);
  emu::launch(poison_kernel, dim3(4), dim3(32), 32, out.data(), dyn.data());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i], 0xFFFFFFFFu) << i;
    EXPECT_EQ(dyn[i], 0xFF) << i;
  }
}

enum ShflKind { kIdx, kUp, kDown, kXor };

__global__ void shuffle_kernel(int kind, int arg, int width, long long* out) {
  const unsigned t = threadIdx.x;
  const long long mine = (1ll << 40) + t * 1000 + 7;  // uses all 8 bytes
  long long got = 0;
  switch (kind) {
    case kIdx: got = __shfl_sync(0xffffffffu, mine, arg, width); break;
    case kUp: got = __shfl_up_sync(0xffffffffu, mine, unsigned(arg), width); break;
    case kDown: got = __shfl_down_sync(0xffffffffu, mine, unsigned(arg), width); break;
    default: got = __shfl_xor_sync(0xffffffffu, mine, arg, width); break;
  }
  out[t] = got;
}

// The source lane by the CUDA Programming Guide's words (not PTX's formula, which the emulator uses).
int reference_source(int kind, int lane, int arg, int width) {
  const int start = lane / width * width, pos = lane % width;
  switch (kind) {
    case kIdx: return start + ((arg % width) + width) % width;
    case kUp: return pos < arg ? lane : lane - arg;                 // lower lanes keep their value
    case kDown: return pos + arg >= width ? lane : lane + arg;      // upper lanes keep their value
    default: {
      const int src = lane ^ arg;                                   // later groups: own value
      return src >= start + width ? lane : src;
    }
  }
}

TEST(EmuRuntime, ShufflesOfEveryKindAndWidthMatchTheCudaRules) {
  const char* names[] = {"shfl", "shfl_up", "shfl_down", "shfl_xor"};
  const int args[4][7] = {{0, 1, 3, 5, 17, 31, -1}, {0, 1, 2, 5, 16, 31, 3}, {0, 1, 2, 5, 16, 31, 3},
                          {0, 1, 2, 5, 16, 31, 12}};
  for (int kind = 0; kind < 4; ++kind)
    for (int width = 1; width <= 32; width *= 2)
      for (int arg : args[kind]) {
        std::vector<long long> out(64, 0);
        emu::launch(shuffle_kernel, dim3(1), dim3(64), 0, kind, arg, width, out.data());
        for (int t = 0; t < 64; ++t) {
          const int warp_base = t / 32 * 32;
          const int src = warp_base + reference_source(kind, t % 32, arg, width);
          ASSERT_EQ(out[t], (1ll << 40) + src * 1000 + 7)
              << names[kind] << " width " << width << " arg " << arg << " thread " << t;
        }
      }
}

__global__ void ballot_kernel(unsigned* out) {
  const unsigned t = threadIdx.x, lane = t & 31;
  out[t] = __ballot_sync(0xffffffffu, lane % 3 == 0 || t >= 32);
  if (lane < 16) out[64 + t] = __ballot_sync(0x0000ffffu, lane & 1);  // a partial mask inside a branch
}

TEST(EmuRuntime, BallotCollectsThePredicatesOfTheMask) {
  std::vector<unsigned> out(128, 0);
  emu::launch(ballot_kernel, dim3(1), dim3(64), 0, out.data());
  unsigned every_third = 0;
  for (int l = 0; l < 32; l += 3) every_third |= 1u << l;
  for (int t = 0; t < 64; ++t) EXPECT_EQ(out[t], t < 32 ? every_third : 0xffffffffu) << t;
  for (int t = 0; t < 64; ++t)
    if ((t & 31) < 16) EXPECT_EQ(out[64 + t], 0x0000aaaau) << t;
}

// The legal `if (warp == 0) reduce` pattern: only warp 0 shuffles (a per-warp
// rendezvous, not a block barrier).
__global__ void warp_reduce_kernel(const float* in, float* out) {
  EMU_SHARED(float, partial, [4]);
  const unsigned t = threadIdx.x, warp = t / 32, lane = t & 31;
  const float v = warp_reduce_sum(in[t]);
  if (lane == 0) partial[warp] = v;
  __syncthreads();  // all four partial sums are written before warp 0 reads them
  if (warp == 0) {
    const float m = warp_reduce_max(lane < 4 ? partial[lane] : -1e30f);
    const float s = warp_reduce_sum(lane < 4 ? partial[lane] : 0.0f);
    if (lane == 0) {
      out[0] = s;
      out[1] = m;
    }
  }
}

TEST(EmuRuntime, WarpReductionsInsideOneWarpOnly) {
  const std::vector<float> in = small_integers(128);
  float sums[4] = {0, 0, 0, 0};
  for (int i = 0; i < 128; ++i) sums[i / 32] += in[i];
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<float> out(2, 0);
    emu::launch(warp_reduce_kernel, dim3(1), dim3(128), 0, in.data(), out.data());
    EXPECT_EQ(out[0], sums[0] + sums[1] + sums[2] + sums[3]) << s.name;
    EXPECT_EQ(out[1], std::max(std::max(sums[0], sums[1]), std::max(sums[2], sums[3]))) << s.name;
  }
}

std::mutex g_threads_mutex;
std::set<std::thread::id> g_threads;

// Each block fills its shared memory with its own index, then re-checks it
// across several barriers while the other OS thread runs other blocks.
__global__ void isolation_kernel(unsigned* mismatches) {
  EMU_SHARED(unsigned, tile, [128]);
  __shared__ unsigned plain[128];
  const unsigned t = threadIdx.x;
  if (t == 0) {
    std::lock_guard<std::mutex> lock(g_threads_mutex);
    g_threads.insert(std::this_thread::get_id());
  }
  tile[t] = blockIdx.x;
  plain[t] = blockIdx.x;
  unsigned bad = 0;
  for (int round = 0; round < 4; ++round) {
    __syncthreads();  // writes of this block are visible; the other OS thread keeps running
    if (t == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    bad += tile[(t + round * 37) % 128] != blockIdx.x;
    bad += plain[(t + round * 37) % 128] != blockIdx.x;
  }
  if (bad) mismatches[blockIdx.x] += 1;  // any thread of the block may write: no read-modify-write race matters
}

TEST(EmuRuntime, ConcurrentBlocksOnTwoOsThreadsHaveIsolatedSharedMemory) {
  ConfigScope scope;
  emu::Config c = scope.saved();
  c.threads = 2;
  c.order = emu::Order::random;
  c.seed = 3;
  scope.set(c);
  g_threads.clear();
  std::vector<unsigned> mismatches(48, 0);
  emu::launch(isolation_kernel, dim3(48), dim3(128), 0, mismatches.data());
  EXPECT_EQ(g_threads.size(), 2u) << "the blocks did not spread over two OS threads";
  for (size_t b = 0; b < mismatches.size(); ++b) EXPECT_EQ(mismatches[b], 0u) << "block " << b;
}

__global__ void large_grid_kernel(const float* in, float* out) {
  EMU_SHARED(float, s, [128]);
  const unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * 128 + t];
  __syncthreads();  // the neighbour's element is written before it is read
  out[blockIdx.x * 128 + t] = s[t] + s[127 - t];
}

TEST(EmuRuntime, LargeGridFinishesQuickly) {
  const unsigned blocks = 1000;
  const std::vector<float> in = small_integers(blocks * 128);
  std::vector<float> out(in.size(), 0);
  const auto start = std::chrono::steady_clock::now();
  emu::launch(large_grid_kernel, dim3(blocks), dim3(128), 0, in.data(), out.data());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("1000 blocks x 128 threads, one barrier each: %.1f ms (%.0f ns per CUDA thread)\n", ms,
              ms * 1e6 / (blocks * 128.0));
  for (unsigned b = 0; b < blocks; ++b)
    for (unsigned t = 0; t < 128; ++t)
      ASSERT_EQ(out[b * 128 + t], in[b * 128 + t] + in[b * 128 + 127 - t]);
  EXPECT_LT(ms, 5000.0);
}

__global__ void barrier_loop_kernel(int rounds) {
  for (int i = 0; i < rounds; ++i) __syncthreads();
}

// Not a pass/fail bound: prints the cost of one thread passing one barrier
// (two fiber switches plus the scheduler's bookkeeping) for the record.
TEST(EmuRuntime, BarrierCostIsReported) {
  const int rounds = 400;
  const auto start = std::chrono::steady_clock::now();
  emu::launch(barrier_loop_kernel, dim3(1), dim3(256), 0, rounds);
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  std::printf("__syncthreads: %.1f ns per thread per barrier (256 threads, %d barriers, forward)\n",
              ns / (256.0 * rounds), rounds);
}

TEST(EmuRuntime, ScheduleTextParses) {
  emu::Config c;
  std::string error;
  EXPECT_TRUE(emu::parse_schedule("reverse", c, &error));
  EXPECT_EQ(c.order, emu::Order::reverse);
  EXPECT_TRUE(emu::parse_schedule("random:42", c, &error));
  EXPECT_EQ(c.order, emu::Order::random);
  EXPECT_EQ(c.seed, 42u);
  EXPECT_TRUE(emu::parse_schedule("greedy", c, &error));
  EXPECT_EQ(c.order, emu::Order::greedy);
  EXPECT_TRUE(emu::parse_schedule("forward", c, &error));
  EXPECT_EQ(c.order, emu::Order::forward);
  for (const char* bad : {"random:", "random:x", "sideways", ""}) {
    EXPECT_FALSE(emu::parse_schedule(bad, c, &error)) << bad;
    EXPECT_NE(error.find("forward, reverse, greedy or random:SEED"), std::string::npos) << error;
  }
}

}  // namespace
