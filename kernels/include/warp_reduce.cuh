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

// Four warp-wide sums at once, in 10 shuffles instead of 4 x 5: a transposed
// butterfly. At distance 16 each half of the warp keeps two of the four
// values and trades the other two (2 shuffles); at distance 8 each quarter
// keeps one (1 shuffle); a plain butterfly at 4, 2, 1 (3 shuffles) leaves the
// sum of value c on lanes 8c .. 8c + 7, identical there (x + y == y + x);
// 4 index shuffles from lanes 0, 8, 16, 24 hand every lane all four sums.
// The association order is fixed, so the results are bitwise deterministic
// and the same on every lane (not the same bits as warp_reduce_sum).
__device__ __forceinline__ void warp_reduce_sum4(float (&v)[4]) {
  const unsigned lane = threadIdx.x & 31;
  const bool upper = (lane & 16) != 0;
  const float send0 = upper ? v[0] : v[2], send1 = upper ? v[1] : v[3];
  const float got0 = __shfl_xor_sync(0xffffffffu, send0, 16), got1 = __shfl_xor_sync(0xffffffffu, send1, 16);
  // this lane now sums values (upper ? 2 : 0) + {0, 1}
  const float half0 = (upper ? v[2] : v[0]) + got0, half1 = (upper ? v[3] : v[1]) + got1;
  const bool odd = (lane & 8) != 0;
  float x = (odd ? half1 : half0) + __shfl_xor_sync(0xffffffffu, odd ? half0 : half1, 8);
#pragma unroll
  for (int offset = 4; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
#pragma unroll
  for (int c = 0; c < 4; ++c) v[c] = __shfl_sync(0xffffffffu, x, 8 * c);
}

