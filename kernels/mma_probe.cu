// mma_probe: the tensor-core building blocks of the attention kernel in one
// warp, end to end: cp.async (16-byte chunks, zero-fill for rows past a_rows)
// of a 16x16 A tile and a 16x8 B tile into shared memory, commit + wait_group 0
// + __syncthreads, ldmatrix.x4 for A's fragments, ldmatrix.x2.trans for B's
// (B stored [k][n]), one mma.sync.m16n8k16 (f16 or bf16 in, f32 accumulate
// from zero), C written from the accumulator fragments. Shapes and layouts:
// kernels.h; fragment layouts: mma.cuh / docs/emulator.md, "Fragment layouts".
//
// Its purpose is a compile-and-SASS check (HMMA.16816.F32[.BF16], LDSM.16.M88.4,
// LDSM.16.MT88.2, LDGSTS.E.BYPASS.128) and an emulator end-to-end test
// (tests/native/emu_mma_test.cpp), not speed.
// ptxas (nvcc 11.8, both instantiations): sm_80 19 registers, sm_90 17 registers; 768 B shared,
// no stack frame, no spills.
#include "cp_async.cuh"
#include "kemu.h"
#include "ldmatrix.cuh"
#include "mma.cuh"

namespace {

template <bool kBf16>
__global__ void __launch_bounds__(32) mma_tile_kernel(const uint16_t* __restrict__ a, const uint16_t* __restrict__ b,
                                                      float* __restrict__ c, int a_rows) {
  kernel_launch_bounds(32);
  EMU_SHARED(uint16_t, As, [16][16]);
  EMU_SHARED(uint16_t, Bs, [16][8]);
  const int lane = threadIdx.x & 31;
  // A: 16 rows x 32 bytes = 32 chunks, one per lane; B: 16 rows x 16 bytes, lanes 0..15.
  const int arow = lane >> 1, acol = (lane & 1) * 8;
  cp_async_16_zfill(&As[arow][acol], a + arow * 16 + acol, arow < a_rows ? 16 : 0);
  if (lane < 16) cp_async_16(&Bs[lane][0], b + lane * 8);
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();  // the other lanes' copies are visible

  uint32_t af[4], bf[2];
  ldmatrix_x4(af, &As[lane & 15][(lane >> 4) * 8]);
  ldmatrix_x2_trans(bf, &Bs[lane & 15][0]);
  float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  if constexpr (kBf16) {
    mma_m16n8k16_bf16f32(acc, af, bf, acc);
  } else {
    mma_m16n8k16_f16f32(acc, af, bf, acc);
  }
  const int g = lane >> 2, t = lane & 3;
  c[g * 8 + 2 * t] = acc[0];
  c[g * 8 + 2 * t + 1] = acc[1];
  c[(g + 8) * 8 + 2 * t] = acc[2];
  c[(g + 8) * 8 + 2 * t + 1] = acc[3];
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus mma_probe(kstream_t stream, const void* a, const void* b, float* c, int a_rows, kdtype dtype) {
  if (dtype != kdtype::f16 && dtype != kdtype::bf16) return kfail(KSTATUS_INVALID_ARGUMENT, "mma_probe: dtype must be f16 or bf16");
  if (a_rows < 1 || a_rows > 16) return kfail(KSTATUS_INVALID_ARGUMENT, "mma_probe: a_rows must be 1..16");
  if (!a || !b || !c || reinterpret_cast<uintptr_t>(a) % 16 || reinterpret_cast<uintptr_t>(b) % 16)
    return kfail(KSTATUS_INVALID_ARGUMENT, "mma_probe: a and b must be non-null and 16-byte aligned");
  const auto* ua = static_cast<const uint16_t*>(a);
  const auto* ub = static_cast<const uint16_t*>(b);
  if (dtype == kdtype::bf16) return klaunch(mma_tile_kernel<true>, dim3(1), dim3(32), 0, stream, ua, ub, c, a_rows);
  return klaunch(mma_tile_kernel<false>, dim3(1), dim3(32), 0, stream, ua, ub, c, a_rows);
}

}  // namespace WPM_KERNELS_NS
