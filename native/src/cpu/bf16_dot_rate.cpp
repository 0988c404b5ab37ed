// The throughput loops behind bf16_dot_rate.h. Inline assembly, not
// intrinsics: the compiler would otherwise fold or reorder a loop that
// computes nothing, and each loop must be exactly 16 independent accumulator
// chains of one instruction, so it measures throughput, not latency.
#include "bf16_dot_rate.h"

#include <algorithm>
#include <chrono>

namespace wpm {
namespace {

constexpr long kIterations = 20000;  // x 16 instructions: ~0.2 ms of vdpbf16ps at one per two cycles
constexpr int kTrials = 5;           // best of: preemption only ever makes a trial slower

#define WPM_16(op)                                                                                       \
  op " %%zmm16, %%zmm17, %%zmm0\n" op " %%zmm16, %%zmm17, %%zmm1\n" op " %%zmm16, %%zmm17, %%zmm2\n"     \
  op " %%zmm16, %%zmm17, %%zmm3\n" op " %%zmm16, %%zmm17, %%zmm4\n" op " %%zmm16, %%zmm17, %%zmm5\n"     \
  op " %%zmm16, %%zmm17, %%zmm6\n" op " %%zmm16, %%zmm17, %%zmm7\n" op " %%zmm16, %%zmm17, %%zmm8\n"     \
  op " %%zmm16, %%zmm17, %%zmm9\n" op " %%zmm16, %%zmm17, %%zmm10\n" op " %%zmm16, %%zmm17, %%zmm11\n"   \
  op " %%zmm16, %%zmm17, %%zmm12\n" op " %%zmm16, %%zmm17, %%zmm13\n" op " %%zmm16, %%zmm17, %%zmm14\n"  \
  op " %%zmm16, %%zmm17, %%zmm15\n"

// Zero operands: no denormal or overflow assists, the same work for every iteration.
#define WPM_LOOP(op)                                                                                    \
  asm volatile("vpxord %%zmm16, %%zmm16, %%zmm16\n vpxord %%zmm17, %%zmm17, %%zmm17\n"                   \
               "1:\n" WPM_16(op) "dec %0\n jnz 1b\n"                                                     \
               : "+r"(n)                                                                                 \
               :                                                                                         \
               : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
                 "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "cc")

__attribute__((target("avx512f,avx512bf16"))) void dot_loop(long n) { WPM_LOOP("vdpbf16ps"); }
__attribute__((target("avx512f"))) void fma_loop(long n) { WPM_LOOP("vfmadd231ps"); }

double best_seconds(void (*loop)(long)) {
  double best = 1e30;
  for (int t = 0; t < kTrials; ++t) {
    auto start = std::chrono::steady_clock::now();
    loop(kIterations);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace

double bf16_dot_flops_per_fma_flop() {
  // One vdpbf16ps zmm is 32 multiply-adds (64 FLOPs), one vfmadd231ps zmm 16 (32 FLOPs).
  double dot = best_seconds(dot_loop), fma = best_seconds(fma_loop);
  return (64.0 / dot) / (32.0 / fma);
}

}  // namespace wpm
