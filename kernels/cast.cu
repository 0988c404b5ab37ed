// Casts between f32, f16 and bf16, every direction (the backward of a cast is
// the cast the other way). The launcher is `cast_dtype`, not cast_fwd/bwd: a
// cast has no direction of its own.
//
//   src [n] in src_dtype, dst [n] in dst_dtype.
//   dst[i] = src[i] rounded to nearest even (f2h / f2bf: the same conversions
//   as the CPU backend); NaN stays NaN, values beyond the f16 range become inf;
//   f16 <-> bf16 goes through fp32 (exact widening, one rounding).
//   Same dtype: a copy of the bits.
//   src and dst must not overlap (each thread reads one element and writes
//   another element's bytes), except src == dst with the same dtype (a no-op).
//
// Tiling: grid-stride loop, one element per thread per step, blocks of 256
// threads, at most 1056 blocks: coalesced, memory bound. Cost: 0-1 FLOPs;
// (sizeof(S) + sizeof(D)) bytes per element.
// TODO: 16-byte vector accesses (today 2/4-byte coalesced accesses).
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: no barrier, no shared memory: the same bits in every schedule.
#include <type_traits>

#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;

template <class S, class D>
__global__ void __launch_bounds__(kThreads) cast_kernel(const S* __restrict__ src, D* __restrict__ dst, int64_t n) {
  kernel_launch_bounds(kThreads);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    if constexpr (std::is_same_v<S, D>) {
      dst[i] = src[i];
    } else {
      dst[i] = from_float<D>(to_float(src[i]));
    }
  }
}

size_t dtype_size(kdtype d) { return d == kdtype::f32 ? 4 : 2; }

}  // namespace

namespace WPM_KERNELS_NS {

kstatus cast_dtype(kstream_t stream, const void* src, kdtype src_dtype, void* dst, kdtype dst_dtype, int64_t n) {
  if (kstatus s = check_size("cast_dtype", "n", n)) return s;
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("cast_dtype", !src || !dst)) return s;
  if (src == dst && src_dtype == dst_dtype) return KSTATUS_OK;
  const uintptr_t s_at = reinterpret_cast<uintptr_t>(src), d_at = reinterpret_cast<uintptr_t>(dst);
  if (s_at < d_at + size_t(n) * dtype_size(dst_dtype) && d_at < s_at + size_t(n) * dtype_size(src_dtype))
    return invalid("cast_dtype", "src and dst overlap");
  return dispatch_dtype("cast_dtype", src_dtype, [&](auto src_tag) {
    return dispatch_dtype("cast_dtype", dst_dtype, [&](auto dst_tag) {
      using S = decltype(src_tag);
      using D = decltype(dst_tag);
      klaunch_min_bytes(uint64_t(n) * (sizeof(S) + sizeof(D)));
      return klaunch(cast_kernel<S, D>, grid_for(n, kThreads), dim3(kThreads), 0, stream, static_cast<const S*>(src),
                     static_cast<D*>(dst), n);
    });
  });
}

}  // namespace WPM_KERNELS_NS
