// The grid-stride loop of the elementwise kernels (swiglu.cu, relu.cu): NI
// inputs and NO outputs of one storage type T, fp32 math in `op`.
//
// Each thread moves 16 bytes per operand per step (4 floats or 8 halves) with
// 128-bit loads and stores when every pointer is 16-byte aligned; the last
// n % (16 / sizeof(T)) elements, or all of them otherwise, take a scalar loop.
// `op(const float (&in)[NI], float (&out)[NO])` computes one element. An output
// may alias an input of the same element (read before written, same thread),
// so nothing here is __restrict__.
#pragma once

#include "kemu.h"
#include "launch_util.cuh"

template <class T, int NI, int NO>
struct Operands {
  const T* in[NI];
  T* out[NO];
};

template <class T, int NI, int NO, class Op>
__device__ __forceinline__ void elementwise_loop(const Operands<T, NI, NO>& p, int64_t n, bool vectorized, Op op) {
  constexpr int W = Pack16<T>::kCount;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nvec = vectorized ? n / W : 0;
  float in[NI], out[NO];
  for (int64_t c = first; c < nvec; c += stride) {
    Pack16<T> a[NI], r[NO];
#pragma unroll
    for (int i = 0; i < NI; ++i) a[i] = load16(p.in[i] + c * W);
#pragma unroll
    for (int k = 0; k < W; ++k) {
#pragma unroll
      for (int i = 0; i < NI; ++i) in[i] = to_float(a[i].v[k]);
      op(in, out);
#pragma unroll
      for (int o = 0; o < NO; ++o) r[o].v[k] = from_float<T>(out[o]);
    }
#pragma unroll
    for (int o = 0; o < NO; ++o) store16(p.out[o] + c * W, r[o]);
  }
  for (int64_t e = nvec * W + first; e < n; e += stride) {
#pragma unroll
    for (int i = 0; i < NI; ++i) in[i] = to_float(p.in[i][e]);
    op(in, out);
#pragma unroll
    for (int o = 0; o < NO; ++o) p.out[o][e] = from_float<T>(out[o]);
  }
}

// True when every operand is 16-byte aligned (the vector path is legal).
template <class T, int NI, int NO>
inline bool operands_aligned16(const Operands<T, NI, NO>& p) {
  bool ok = true;
  for (int i = 0; i < NI; ++i) ok = ok && aligned16(p.in[i]);
  for (int o = 0; o < NO; ++o) ok = ok && aligned16(p.out[o]);
  return ok;
}

// Launches kernel(operands, n, vectorized) over n elements with `threads` per
// block: the vector path when every pointer is 16-byte aligned.
// Static, like klaunch (kemu.h): the CUDA and the emulator build of one library instantiate it with the same
// signature, and the linker must not keep one for both.
template <class T, int NI, int NO>
static kstatus launch_elementwise(void (*kernel)(Operands<T, NI, NO>, int64_t, bool), kstream_t stream, int threads,
                           const void* const (&in)[NI], void* const (&out)[NO], int64_t n) {
  Operands<T, NI, NO> p;
  for (int i = 0; i < NI; ++i) p.in[i] = static_cast<const T*>(in[i]);
  for (int o = 0; o < NO; ++o) p.out[o] = static_cast<T*>(out[o]);
  const bool vec = operands_aligned16(p);
  klaunch_min_bytes(uint64_t(n) * (NI + NO) * sizeof(T));
  return klaunch(kernel, klaunch_util::grid_for(klaunch_util::pack16_work<T>(n, vec), threads), dim3(threads), 0,
                 stream, p, n, vec);
}
