// GELU, forward and backward, tanh and exact forms.
//
//   x, out, dout, dx: [n] contiguous, f32 / f16 / bf16 storage, fp32 math.
//   tanh:  gelu(x)  = 0.5 x (1 + tanh(u)) = x sigmoid(2u),  u = sqrt(2/pi) (x + 0.044715 x^3)
//          gelu'(x) = s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2),  s = sigmoid(2u)
//   exact: gelu(x)  = x Phi(x),  gelu'(x) = Phi(x) + x phi(x),
//          Phi(x) = 0.5 erfc(-x / sqrt 2), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
//   Both are evaluated in forms without cancellation for negative x (see tanh_terms).
//   Nothing is saved for the backward: it recomputes from x.
//
// Tiling: elementwise, memory bound. Each thread moves 16 bytes per step (4
// floats or 8 halves) with one 128-bit load per input and one 128-bit store,
// in a grid-stride loop; the last n % (16 / sizeof(T)) elements, or all of them
// when a pointer is not 16-byte aligned, go through a scalar loop. Blocks of
// 256 threads; at most kMaxBlocks blocks (launch_util.cuh: about 8 resident
// blocks on each of 132 SMs), so a large tensor is covered by the loop, not by
// a huge grid.
//
// Cost per element: fwd ~10 FLOPs + expf + a division (exact: erfcf), 2 * sizeof(T)
// bytes; bwd ~18 FLOPs + the same (exact: erfcf + expf), 3 * sizeof(T) bytes. At H100's
// ~3.3 TB/s an f32 forward over 8M elements (64 MB) should take ~20 us; not measured
// (no GPU here). ptxas (nvcc 11.8, all 12 instantiations, sm_80 and sm_90): 32-48
// registers (f32 32-33; f16/bf16 fwd 32-44, bwd 34-48), no spills, 0-byte stack
// frame, no shared memory; SASS has LDG.E.128.CONSTANT / STG.E.128 on the vector path.
//
// Emulator: the same source runs on the CPU through kemu.h; the kernel has no
// barrier or shared memory, so its result is the same in every schedule.
#include "gelu_math.cuh"
#include "kemu.h"
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;

// vectorized: every pointer is 16-byte aligned, so elements [0, n - n % W) go 16 bytes at a time.
template <class T, gelu_form F>
__global__ void __launch_bounds__(kThreads)
    gelu_fwd_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t n, bool vectorized) {
  kernel_launch_bounds(kThreads);
  constexpr int W = Pack16<T>::kCount;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nvec = vectorized ? n / W : 0;
  for (int64_t c = first; c < nvec; c += stride) {
    Pack16<T> v = load16(x + c * W);
#pragma unroll
    for (int k = 0; k < W; ++k) v.v[k] = from_float<T>(gelu<F>(to_float(v.v[k])));
    store16(out + c * W, v);
    kcount_flops(W * kFwdFlops<F>);
  }
  for (int64_t i = nvec * W + first; i < n; i += stride) {
    out[i] = from_float<T>(gelu<F>(to_float(x[i])));
    kcount_flops(kFwdFlops<F>);
  }
}

template <class T, gelu_form F>
__global__ void __launch_bounds__(kThreads)
    gelu_bwd_kernel(const T* __restrict__ dout, const T* __restrict__ x, T* __restrict__ dx, int64_t n,
                    bool vectorized) {
  kernel_launch_bounds(kThreads);
  constexpr int W = Pack16<T>::kCount;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nvec = vectorized ? n / W : 0;
  for (int64_t c = first; c < nvec; c += stride) {
    const Pack16<T> g = load16(dout + c * W);
    Pack16<T> v = load16(x + c * W);
#pragma unroll
    for (int k = 0; k < W; ++k) v.v[k] = from_float<T>(to_float(g.v[k]) * gelu_grad<F>(to_float(v.v[k])));
    store16(dx + c * W, v);
    kcount_flops(W * kBwdFlops<F>);
  }
  for (int64_t i = nvec * W + first; i < n; i += stride) {
    dx[i] = from_float<T>(to_float(dout[i]) * gelu_grad<F>(to_float(x[i])));
    kcount_flops(kBwdFlops<F>);
  }
}

template <class T, gelu_form F>
kstatus launch_fwd(kstream_t stream, const void* x, void* out, int64_t n) {
  const bool vec = aligned16(x) && aligned16(out);
  const T* in = static_cast<const T*>(x);
  T* dst = static_cast<T*>(out);
  klaunch_min_bytes(uint64_t(n) * 2 * sizeof(T));
  return klaunch(gelu_fwd_kernel<T, F>, grid_for(pack16_work<T>(n, vec), kThreads), dim3(kThreads), 0, stream, in,
                 dst, n, vec);
}

template <class T, gelu_form F>
kstatus launch_bwd(kstream_t stream, const void* dout, const void* x, void* dx, int64_t n) {
  const bool vec = aligned16(dout) && aligned16(x) && aligned16(dx);
  const T* g = static_cast<const T*>(dout);
  const T* in = static_cast<const T*>(x);
  T* dst = static_cast<T*>(dx);
  klaunch_min_bytes(uint64_t(n) * 3 * sizeof(T));
  return klaunch(gelu_bwd_kernel<T, F>, grid_for(pack16_work<T>(n, vec), kThreads), dim3(kThreads), 0, stream, g,
                 in, dst, n, vec);
}

template <gelu_form F>
struct Form {
  static constexpr gelu_form value = F;
};

// Calls fn(T{}, Form<F>{}) with the storage type T of dtype and the form F (the form is checked first).
template <class Fn>
kstatus dispatch(const char* op, kdtype dtype, gelu_form form, Fn&& fn) {
  const bool tanh_form = form == gelu_form::tanh;
  if (!tanh_form && form != gelu_form::exact) return invalid(op, "unknown form " + std::to_string(int(form)));
  return dispatch_dtype(op, dtype, [&](auto tag) {
    return tanh_form ? fn(tag, Form<gelu_form::tanh>{}) : fn(tag, Form<gelu_form::exact>{});
  });
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus gelu_fwd(kstream_t stream, const void* x, void* out, int64_t n, gelu_form form, kdtype dtype) {
  if (kstatus s = check_size("gelu_fwd", "n", n)) return s;
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("gelu_fwd", !x || !out)) return s;
  return dispatch("gelu_fwd", dtype, form, [&](auto tag, auto f) {
    return launch_fwd<decltype(tag), decltype(f)::value>(stream, x, out, n);
  });
}

kstatus gelu_bwd(kstream_t stream, const void* dout, const void* x, void* dx, int64_t n, gelu_form form,
                 kdtype dtype) {
  if (kstatus s = check_size("gelu_bwd", "n", n)) return s;
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("gelu_bwd", !dout || !x || !dx)) return s;
  return dispatch("gelu_bwd", dtype, form, [&](auto tag, auto f) {
    return launch_bwd<decltype(tag), decltype(f)::value>(stream, dout, x, dx, n);
  });
}

}  // namespace WPM_KERNELS_NS
