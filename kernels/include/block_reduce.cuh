// Block-wide sums for blocks of whole warps (blockDim.x a multiple of 32, at
// most 1024): a butterfly inside each warp (warp_reduce.cuh), one partial per
// warp in shared memory, then EVERY thread adds the partials in warp order.
// The association order is fixed (by lane distance, then by warp), so the
// result is bitwise deterministic and the same on every thread: no broadcast
// step and no float atomics.
//
// `scratch` is block shared memory of at least blockDim.x / 32 elements
// (declare EMU_SHARED(T, name, [32]) in the kernel, so the emulator poisons
// it). Every thread of the block must call together (it has two barriers).
// It may be called repeatedly with the same scratch: see the second barrier.
#pragma once

#include "kemu.h"
#include "warp_reduce.cuh"

template <class T>
__device__ __forceinline__ T block_reduce_sum(T v, T* scratch) {
  v = warp_reduce_sum(v);
  const int warps = int(blockDim.x) >> 5;
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  // Every warp's partial is in shared memory before any thread reads them.
  __syncthreads();
  T total = scratch[0];
  for (int w = 1; w < warps; ++w) total += scratch[w];
  // Every thread has read the partials before a following call (the next row)
  // lets a fast warp overwrite its slot.
  __syncthreads();
  return total;
}
