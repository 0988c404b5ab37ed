// Which way the CPU backend multiplies bf16 matrices, and why.
//
// Two paths: oneDNN's bf16 matmul (fp32 accumulation, reading bf16 directly),
// or OpenBLAS sgemm on f32 copies (gemm.cpp). oneDNN wins only where bf16
// arithmetic is fast: on AMX tiles, or where avx512_bf16 dot products reach
// at least 0.9 of the fp32 FMA rate (bf16_dot_rate.h measures it; on the dev
// VM they run at 0.49 of it, and oneDNN bf16 ran at ~190 GFLOP/s against
// ~340 for sgemm). Without oneDNN (not built in, or libdnnl.so.2 missing at
// run time), or without avx512_bf16, the converting path runs.
//
// WORLDPM_BF16_GEMM=onednn or =convert forces a path (to compare the two, to
// test both on one machine); it is read when a CPU context is created.
#pragma once

#include <string>

namespace wpm {

struct Bf16GemmPath {
  bool onednn;             // true: oneDNN matmul; false: OpenBLAS sgemm on f32 copies
  std::string description; // what runs and why, for wpm_backend_query and `worldpm info`
};

Bf16GemmPath choose_bf16_gemm_path();

}  // namespace wpm
