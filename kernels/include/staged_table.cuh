// A table of per-tensor entries (kadamw_tensor, ktensor) in DEVICE memory, walked in order by every thread of a
// block, as the multi-tensor kernels do. Each entry is staged in shared memory, kChunk entries at a time, so a
// block reads it from global memory once instead of once per thread: with a fixed grid (hundreds of blocks of 256
// threads) the per-thread reads of a step's table cost more bytes than its tensors hold.
//
// Every thread of the block must call it (it has barriers), with kChunk <= blockDim.x and `staged` a
// shared-memory array of kChunk entries. The barrier before each chunk keeps a fast thread from overwriting
// entries a slow one still reads; within a chunk nothing is written, so the emulator gives the same bits in every
// schedule.
#pragma once

#include "kemu.h"

template <int kChunk, class Entry, class Visit>
__device__ __forceinline__ void for_each_staged_entry(const Entry* __restrict__ table, int64_t count, Entry* staged,
                                                      Visit&& visit) {
  for (int64_t base = 0; base < count; base += kChunk) {
    const int n = int(count - base < kChunk ? count - base : kChunk);
    __syncthreads();
    if (int(threadIdx.x) < n) staged[threadIdx.x] = table[base + threadIdx.x];
    __syncthreads();
    for (int j = 0; j < n; ++j) {
      const Entry entry = staged[j];  // in registers: fewer than reading the fields from shared memory each time
      visit(entry);
    }
  }
}
