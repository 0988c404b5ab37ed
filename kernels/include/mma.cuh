// Tensor-core matrix multiply-accumulate, one warp: D = A * B + C with
// A 16x16 (row-major fragments), B 16x8 (K x N, "col" fragments), C/D 16x8 fp32:
//   mma_m16n8k16_f16f32(d, a, b, c)    A, B fp16     (mma.sync...m16n8k16.row.col.f32.f16.f16.f32)
//   mma_m16n8k16_bf16f32(d, a, b, c)   A, B bf16     (....f32.bf16.bf16.f32)
// All 32 lanes must call it together (mma.sync.aligned). d may alias c.
//
// Fragment layouts (docs/emulator.md, "Fragment layouts"; PTX ISA "Matrix Fragments for mma.m16n8k16"),
// g = lane >> 2, t = lane & 3, a b32 register holds two 16-bit values, the lower
// column (A) / lower k (B) in the low half:
//   a[0] = A[g][2t..2t+1]     a[1] = A[g+8][2t..2t+1]
//   a[2] = A[g][2t+8..2t+9]   a[3] = A[g+8][2t+8..2t+9]
//   b[0] = B[2t..2t+1][g]     b[1] = B[2t+8..2t+9][g]
//   c[0] = C[g][2t]  c[1] = C[g][2t+1]  c[2] = C[g+8][2t]  c[3] = C[g+8][2t+1]   (d likewise)
// ldmatrix.cuh loads a[] with ldmatrix_x4 and b[] with ldmatrix_x2_trans (B stored [k][n])
// or ldmatrix_x2 (B stored [n][k]).
//
// Emulator: a warp collective (native/emu: warp_mma); the last lane to arrive
// gathers the 16x16 / 16x8 tiles from all lanes, multiplies exactly (products
// and the sum in double, one rounding to float) and scatters D. Tensor cores
// accumulate with their own internal rounding, so compare GPU results with a
// tolerance; small dyadic inputs (k/8) are exact on both.
#pragma once

#include "kemu.h"

#if defined(__CUDACC__)

__device__ __forceinline__ void mma_m16n8k16_f16f32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                    const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}

__device__ __forceinline__ void mma_m16n8k16_bf16f32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                     const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}

#else

inline void mma_m16n8k16_f16f32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                                const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::emu::detail::warp_mma(false, d, a, b, c, file, line);
}

inline void mma_m16n8k16_bf16f32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                                 const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::emu::detail::warp_mma(true, d, a, b, c, file, line);
}

#endif
