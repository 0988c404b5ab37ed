// SwiGLU (the gate of the Qwen2 MLP), forward and backward.
//
//   gate, up, out, dout, dgate, dup: [n] contiguous, f32 / f16 / bf16 storage, fp32 math.
//   fwd:  out = silu(g) u,  silu(g) = g s,  s = sigmoid(g)
//   bwd:  dup = dout silu(g),  dgate = dout u s (1 + g (1 - s))
//   s and 1 - s are both formed from e = exp(-|g|) <= 1 (see sigmoid_pair), so
//   nothing overflows and neither loses digits in its tail. Nothing is saved
//   for the backward: it recomputes s from gate. dgate/dup may alias inputs.
//
// Tiling: elementwise, memory bound (elementwise.cuh): 16 bytes per operand per
// thread step, grid-stride loop, blocks of 256 threads, at most 1056 blocks.
//
// Cost per element: fwd ~8 FLOPs + expf + a division, 3 * sizeof(T) bytes;
// bwd ~14 FLOPs + the same, 5 * sizeof(T) bytes. f32 fwd over 8M elements is
// 96 MB: ~30 us at H100's ~3.3 TB/s (estimate; no GPU here).
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: no barrier, no shared memory: the same bits in every schedule.
#include "elementwise.cuh"
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;

struct SigmoidPair {
  float s, one_minus_s;
};
// sigmoid(g) and 1 - sigmoid(g) from e = exp(-|g|): p = 1 / (1 + e) is sigmoid(|g|).
__device__ __forceinline__ SigmoidPair sigmoid_pair(float g) {
  const float e = expf(-fabsf(g));
  const float p = 1.0f / (1.0f + e);
  return g >= 0.0f ? SigmoidPair{p, e * p} : SigmoidPair{e * p, p};
}

template <class T>
__global__ void __launch_bounds__(kThreads) swiglu_fwd_kernel(Operands<T, 2, 1> p, int64_t n, bool vectorized) {
  kernel_launch_bounds(kThreads);
  elementwise_loop(p, n, vectorized, [](const float (&in)[2], float (&out)[1]) {
    const float g = in[0];
    out[0] = g * sigmoid_pair(g).s * in[1];
  });
}

template <class T>
__global__ void __launch_bounds__(kThreads) swiglu_bwd_kernel(Operands<T, 3, 2> p, int64_t n, bool vectorized) {
  kernel_launch_bounds(kThreads);
  elementwise_loop(p, n, vectorized, [](const float (&in)[3], float (&out)[2]) {
    const float d = in[0], g = in[1], u = in[2];
    const SigmoidPair s = sigmoid_pair(g);
    out[0] = d * u * s.s * (1.0f + g * s.one_minus_s);  // dgate
    out[1] = d * g * s.s;                               // dup
  });
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus swiglu_fwd(kstream_t stream, const void* gate, const void* up, void* out, int64_t n, kdtype dtype) {
  if (kstatus s = check_size("swiglu_fwd", "n", n)) return s;
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("swiglu_fwd", !gate || !up || !out)) return s;
  return dispatch_dtype("swiglu_fwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    return launch_elementwise<T, 2, 1>(swiglu_fwd_kernel<T>, stream, kThreads, {gate, up}, {out}, n);
  });
}

kstatus swiglu_bwd(kstream_t stream, const void* dout, const void* gate, const void* up, void* dgate, void* dup,
                   int64_t n, kdtype dtype) {
  if (kstatus s = check_size("swiglu_bwd", "n", n)) return s;
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("swiglu_bwd", !dout || !gate || !up || !dgate || !dup)) return s;
  return dispatch_dtype("swiglu_bwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    return launch_elementwise<T, 3, 2>(swiglu_bwd_kernel<T>, stream, kThreads, {dout, gate, up}, {dgate, dup}, n);
  });
}

}  // namespace WPM_KERNELS_NS
