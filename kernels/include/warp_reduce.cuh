// Warp-wide reductions by butterfly shuffles (__shfl_xor_sync): after
// log2(32) = 5 steps every lane holds the result, so no broadcast is needed.
// The emulated behaviour comes from kemu.h (each shuffle is a warp rendezvous
// where the last lane to arrive exchanges the values of all 32 lanes at once).
//
// All 32 lanes of the warp must call these together (full mask). The sum's
// association order is fixed (pairs at distance 16, 8, 4, 2, 1), so the result
// is bitwise deterministic, and identical on every lane.
#pragma once

#include "kemu.h"

// float or double (global norms accumulate in double).
template <class T>
__device__ __forceinline__ T warp_reduce_sum(T v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_reduce_max(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}
