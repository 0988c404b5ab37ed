// Asynchronous global -> shared copies of 16 bytes (sm_80+), per thread:
//   cp_async_16(dst, src)                 cp.async.cg.shared.global [dst], [src], 16
//   cp_async_16_zfill(dst, src, nbytes)   the same reading only nbytes (0..16) of src, zeros after
//                                         (tails: nbytes = 0 reads nothing; src must still be aligned)
//   cp_async_commit()                     cp.async.commit_group: the copies issued since the last
//                                         commit form one group
//   cp_async_wait<N>()                    cp.async.wait_group N: all but the newest N groups of
//                                         THIS thread have landed
// dst: 16-byte aligned shared memory (EMU_SHARED / emu_dynamic_smem); src:
// 16-byte aligned global memory. wait_group covers only the calling thread's
// copies: other threads' data needs a __syncthreads() after their waits.
//
// Emulator (native/emu: cp_async*): each copy is queued on its lane and lands
// only when a wait_group retires its group (or when the lane exits): the latest
// legal moment, so reading before the wait sees the 0xFF poison of shared
// memory. The source is read at delivery. Config::defer_cp_async = false copies
// at issue instead (for comparison). Bad addresses are reported with file:line.
#pragma once

#include "kemu.h"

#if defined(__CUDACC__)

__device__ __forceinline__ void cp_async_16(void* dst, const void* src) {
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(__cvta_generic_to_global(src)) : "memory");
}

__device__ __forceinline__ void cp_async_16_zfill(void* dst, const void* src, int nbytes) {
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(__cvta_generic_to_global(src)),
               "r"(nbytes)
               : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  static_assert(N >= 0 && N <= 7, "cp.async.wait_group takes 0..7 here");
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

#else

inline void cp_async_16(void* dst, const void* src, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::emu::detail::cp_async(dst, src, 16, file, line);
}

inline void cp_async_16_zfill(void* dst, const void* src, int nbytes, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  ::emu::detail::cp_async(dst, src, nbytes, file, line);
}

inline void cp_async_commit() { ::emu::detail::cp_async_commit(); }

template <int N>
inline void cp_async_wait() {
  static_assert(N >= 0 && N <= 7, "cp.async.wait_group takes 0..7 here");
  ::emu::detail::cp_async_wait(N);
}

#endif
