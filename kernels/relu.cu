// ReLU (the head activation of the released WorldPM-72B layout), forward and backward.
//
//   x, out, dout, dx: [n] contiguous, f32 / f16 / bf16 storage.
//   fwd:  out = x > 0 ? x : 0, and NaN stays NaN (as the CPU backend and PyTorch)
//   bwd:  dx = x > 0 ? dout : 0 (the derivative at 0 is taken as 0)
//
// Tiling: elementwise, memory bound (elementwise.cuh): 16 bytes per operand per
// thread step, grid-stride loop, blocks of 256 threads, at most 1056 blocks.
// Cost per element: 1 compare; fwd 2 * sizeof(T) bytes, bwd 3 * sizeof(T).
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: no barrier, no shared memory: the same bits in every schedule.
#include "elementwise.cuh"
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;

template <class T>
__global__ void __launch_bounds__(kThreads) relu_fwd_kernel(Operands<T, 1, 1> p, int64_t n, bool vectorized) {
  kernel_launch_bounds(kThreads);
  elementwise_loop(p, n, vectorized, [](const float (&in)[1], float (&out)[1]) {
    const float x = in[0];
    out[0] = x > 0.0f || x != x ? x : 0.0f;
  });
}

template <class T>
__global__ void __launch_bounds__(kThreads) relu_bwd_kernel(Operands<T, 2, 1> p, int64_t n, bool vectorized) {
  kernel_launch_bounds(kThreads);
  elementwise_loop(p, n, vectorized, [](const float (&in)[2], float (&out)[1]) {
    out[0] = in[1] > 0.0f ? in[0] : 0.0f;
  });
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus relu_fwd(kstream_t stream, const void* x, void* out, int64_t n, kdtype dtype) {
  if (kstatus s = check_size("relu_fwd", "n", n)) return s;
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("relu_fwd", !x || !out)) return s;
  return dispatch_dtype("relu_fwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    return launch_elementwise<T, 1, 1>(relu_fwd_kernel<T>, stream, kThreads, {x}, {out}, n);
  });
}

kstatus relu_bwd(kstream_t stream, const void* dout, const void* x, void* dx, int64_t n, kdtype dtype) {
  if (kstatus s = check_size("relu_bwd", "n", n)) return s;
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("relu_bwd", !dout || !x || !dx)) return s;
  return dispatch_dtype("relu_bwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    return launch_elementwise<T, 2, 1>(relu_bwd_kernel<T>, stream, kThreads, {dout, x}, {dx}, n);
  });
}

}  // namespace WPM_KERNELS_NS
