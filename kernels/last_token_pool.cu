// Last-token pooling: the hidden state of each sequence's scoring token, and its backward.
//
//   hidden, dhidden [B, T, C]; out, dout [B, C] (f32 / f16 / bf16, moved as
//   stored: no conversion); lengths i32 [B] in 1..T.
//   s_b = lengths[b] - 1 (right padding) or T - 1 (left padding)
//   fwd:  out[b, :] = hidden[b, s_b, :]                 reads only the B scoring rows
//   bwd:  dhidden[b, t, :] = t == s_b ? dout[b, :] : 0    writes EVERY row
//
// lengths are device data, so the launcher cannot check them: a length outside
// 1..T never reads or writes out of bounds; it turns the sequence's output rows
// (out[b] in the forward, all of dhidden[b] in the backward) into NaN, which the
// tests and any loss see. The backend validates lengths where it can.
//
// Tiling: fwd one block of 256 threads per sequence (grid B), threads stride
// over C; bwd one block per (t, b) row (grid T x B), so the zero fill (the bulk
// of the work) covers the GPU. Cost: no FLOPs; fwd moves 2 B C sizeof(T) bytes,
// bwd B C sizeof(T) read + B T C sizeof(T) written.
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
// TODO: 128-bit stores for the zero fill.
//
// Emulator: no barrier, no shared memory: the same bits in every schedule.
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;

// The scoring token of sequence b, or -1 when its length is out of range.
__device__ __forceinline__ int64_t scoring_token(const int32_t* lengths, int64_t b, int64_t t, bool left) {
  const int64_t len = lengths[b];
  if (len < 1 || len > t) return -1;
  return left ? t - 1 : len - 1;
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    last_token_pool_fwd_kernel(const T* __restrict__ hidden, const int32_t* __restrict__ lengths,
                               T* __restrict__ out, int64_t t, int64_t c, bool left) {
  kernel_launch_bounds(kThreads);
  const int64_t b = blockIdx.x;
  const int64_t s = scoring_token(lengths, b, t, left);
  const T* src = hidden + (b * t + (s < 0 ? 0 : s)) * c;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) out[b * c + j] = s < 0 ? from_float<T>(NAN) : src[j];
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    last_token_pool_bwd_kernel(const T* __restrict__ dout, const int32_t* __restrict__ lengths,
                               T* __restrict__ dhidden, int64_t t, int64_t c, bool left) {
  kernel_launch_bounds(kThreads);
  const int64_t row = blockIdx.x, b = blockIdx.y;
  const int64_t s = scoring_token(lengths, b, t, left);
  T* dst = dhidden + (b * t + row) * c;
  const T zero = s < 0 ? from_float<T>(NAN) : from_float<T>(0.0f);
  if (row == s) {
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) dst[j] = dout[b * c + j];
  } else {
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) dst[j] = zero;
  }
}

kstatus check(const char* op, int64_t b, int64_t t, int64_t c, kpadding padding, bool any_null) {
  if (kstatus s = check_size(op, "b", b)) return s;
  if (kstatus s = check_size(op, "t", t)) return s;
  if (kstatus s = check_size(op, "c", c)) return s;
  if (padding != kpadding::right && padding != kpadding::left)
    return invalid(op, "unknown padding " + std::to_string(int(padding)));
  if (b > 65535) return invalid(op, "b = " + std::to_string(b) + " exceeds 65535 (grid y)");
  if (t > int64_t(0x7fffffff)) return invalid(op, "t = " + std::to_string(t) + " exceeds the grid (2^31 - 1)");
  if (b > 0 && t == 0) return invalid(op, "t = 0 leaves no scoring token");
  if (b * t * c > 0 && any_null) return invalid(op, "a pointer is null");
  return KSTATUS_OK;
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus last_token_pool_fwd(kstream_t stream, const void* hidden, const int32_t* lengths, void* out, int64_t b,
                            int64_t t, int64_t c, kpadding padding, kdtype dtype) {
  if (kstatus s = check("last_token_pool_fwd", b, t, c, padding, !hidden || !lengths || !out)) return s;
  if (b * c == 0) return KSTATUS_OK;
  return dispatch_dtype("last_token_pool_fwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    klaunch_min_bytes(uint64_t(b) * (4 + 2 * uint64_t(c) * sizeof(T)));  // lengths, the rows read and written
    return klaunch(last_token_pool_fwd_kernel<T>, dim3(unsigned(b)), dim3(kThreads), 0, stream,
                   static_cast<const T*>(hidden), lengths, static_cast<T*>(out), t, c, padding == kpadding::left);
  });
}

kstatus last_token_pool_bwd(kstream_t stream, const void* dout, const int32_t* lengths, void* dhidden, int64_t b,
                            int64_t t, int64_t c, kpadding padding, kdtype dtype) {
  if (kstatus s = check("last_token_pool_bwd", b, t, c, padding, !dout || !lengths || !dhidden)) return s;
  if (b * t * c == 0) return KSTATUS_OK;
  return dispatch_dtype("last_token_pool_bwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    klaunch_min_bytes(uint64_t(b) * (4 + uint64_t(c) * sizeof(T) * (1 + uint64_t(t))));  // lengths, dout, dhidden
    return klaunch(last_token_pool_bwd_kernel<T>, dim3(unsigned(t), unsigned(b)), dim3(kThreads), 0, stream,
                   static_cast<const T*>(dout), lengths, static_cast<T*>(dhidden), t, c, padding == kpadding::left);
  });
}

}  // namespace WPM_KERNELS_NS
