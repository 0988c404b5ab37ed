// sincospi_f(u, &s, &c): sin(pi u) and cos(pi u) in fp32.
//
// Why not sinf/cosf of a reduced angle: nvcc cannot see that an argument is
// already small, so every sinf/cosf call carries CUDA's large-argument
// reduction, whose table lives in local memory (LDL/STL in the SASS, which the
// deny check refuses). sincospif reduces by rounding u to an integer, with no
// such path. A caller that keeps |u| <= 1 (a turn count reduced in float64)
// also loses less to the final rounding than a float angle in [-pi, pi] does:
// float(u) is within 3e-8 of u, i.e. 9.4e-8 rad.
//
// Emulator: sin and cos of pi * u in float64, rounded once to fp32 (CUDA
// documents sincospif within 1 ulp of the exact value, so the GPU may differ
// by that ulp).
#pragma once

#include "kemu.h"

#if defined(__CUDACC__)

__device__ __forceinline__ void sincospi_f(float u, float* s, float* c) { sincospif(u, s, c); }

#else

inline void sincospi_f(float u, float* s, float* c) {
  constexpr double kPi = 3.14159265358979323846;
  *s = float(std::sin(kPi * double(u)));
  *c = float(std::cos(kPi * double(u)));
}

#endif
