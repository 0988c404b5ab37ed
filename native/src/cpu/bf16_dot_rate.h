// How fast this CPU's bf16 dot products are against its fp32 FMAs.
//
// AVX512-BF16 does not promise speed: vdpbf16ps (16 lanes x 2 bf16 products
// into fp32) runs at one per cycle on some cores and one per two cycles on
// others, while vfmadd231ps runs at two per cycle. On the 2-core dev VM
// (Xeon family 6 model 207) the probe below measured 1.45 G vdpbf16ps/s
// against 5.9 G vfmadd231ps/s, that is 0.49 bf16 FLOPs per fp32 FLOP, and
// oneDNN's bf16 matmul indeed ran at ~190 GFLOP/s against ~340 for OpenBLAS
// sgemm. The flag alone cannot tell these CPUs apart; a 1 ms probe can.
#pragma once

namespace wpm {

// Peak bf16 dot-product FLOPs per peak fp32 FMA FLOP on the calling core,
// from back-to-back throughput loops (best of a few). Needs avx512_bf16.
double bf16_dot_flops_per_fma_flop();

}  // namespace wpm
