// ldmatrix: one warp loads 1, 2 or 4 8x8 matrices of 16-bit elements from
// shared memory into registers, already in mma fragment order:
//   ldmatrix_x1(r, row)  ldmatrix_x2(r, row)  ldmatrix_x4(r, row)         (r: uint32_t, [2], [4])
//   ldmatrix_x1_trans / ldmatrix_x2_trans / ldmatrix_x4_trans           (the transposed matrices)
// (ldmatrix.sync.aligned.m8n8.{x1,x2,x4}[.trans].shared.b16). All 32 lanes call it together.
//
// Every lane passes one row address: lanes 8j..8j+7 give rows 0..7 of matrix j
// (x1: lanes 0..7 only are used, x2: 0..15; the others' addresses are ignored).
// A row is 16 contiguous bytes (8 elements), 16-byte aligned, in shared memory
// (EMU_SHARED or emu_dynamic_smem; the emulator reports anything else).
// Lane l receives, in r[j], elements 2(l%4) (low half) and 2(l%4)+1 (high half)
// of row l/4 of matrix j; with .trans, {M_j[2(l%4)][l/4], M_j[2(l%4)+1][l/4]}.
// (docs/emulator.md, "Fragment layouts".) For the mma.cuh fragments:
//   A [m][k] row-major:  ldmatrix_x4(a, &As[m0 + (lane & 15)][k0 + (lane >> 4) * 8])
//   B [k][n] row-major:  ldmatrix_x2_trans(b, &Bs[k0 + (lane & 15)][n0])
//   B [n][k] (K in Q K^T): ldmatrix_x2(b, &Ks[n0 + (lane & 7)][k0 + ((lane >> 3) & 1) * 8])
//
// Emulator: a warp collective (native/emu: warp_ldmatrix); each lane's address
// is checked when it arrives (alignment, inside this block's shared memory) and
// the last lane to arrive reads all rows at once.
#pragma once

#include "kemu.h"

#if defined(__CUDACC__)

__device__ __forceinline__ unsigned ldmatrix_smem_addr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldmatrix_x1(uint32_t& r, const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r) : "r"(ldmatrix_smem_addr(row)) : "memory");
}
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(ldmatrix_smem_addr(row))
               : "memory");
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(ldmatrix_smem_addr(row))
               : "memory");
}
__device__ __forceinline__ void ldmatrix_x1_trans(uint32_t& r, const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n"
               : "=r"(r)
               : "r"(ldmatrix_smem_addr(row))
               : "memory");
}
__device__ __forceinline__ void ldmatrix_x2_trans(uint32_t (&r)[2], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(ldmatrix_smem_addr(row))
               : "memory");
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(ldmatrix_smem_addr(row))
               : "memory");
}

#else

inline void ldmatrix_x1(uint32_t& r, const void* row, const char* file = __builtin_FILE(),
                        int line = __builtin_LINE()) {
  ::emu::detail::warp_ldmatrix(1, false, &r, row, file, line);
}
inline void ldmatrix_x2(uint32_t (&r)[2], const void* row, const char* file = __builtin_FILE(),
                        int line = __builtin_LINE()) {
  ::emu::detail::warp_ldmatrix(2, false, r, row, file, line);
}
inline void ldmatrix_x4(uint32_t (&r)[4], const void* row, const char* file = __builtin_FILE(),
                        int line = __builtin_LINE()) {
  ::emu::detail::warp_ldmatrix(4, false, r, row, file, line);
}
inline void ldmatrix_x1_trans(uint32_t& r, const void* row, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  ::emu::detail::warp_ldmatrix(1, true, &r, row, file, line);
}
inline void ldmatrix_x2_trans(uint32_t (&r)[2], const void* row, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  ::emu::detail::warp_ldmatrix(2, true, r, row, file, line);
}
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  ::emu::detail::warp_ldmatrix(4, true, r, row, file, line);
}

#endif
