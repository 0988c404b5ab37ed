// RMSNorm, forward and backward.
//
//   x, out, dout, dx [N, C]; weight, dweight [C] (x's dtype: f32 / f16 / bf16);
//   rstd f32 [N] saved by the forward for the backward. fp32 math.
//   fwd:  r = 1 / sqrt(mean_j x_j^2 + eps),  out_j = x_j r w_j,  rstd = r
//   bwd:  dx_j = r (dout_j w_j - x_j r^2 mean_k(dout_k w_k x_k))   (overwrites dx)
//         dweight_j += sum_n dout_nj x_nj r_n                      (ACCUMULATES)
//
// Tiling:
//   rmsnorm_fwd_kernel: one block of 256 threads per row; threads stride over
//     the columns (coalesced), the sum of squares is a deterministic block
//     reduction (block_reduce.cuh), then the row is read again (from L1/L2)
//     and normalized.
//   rmsnorm_bwd_kernel: row blocks of R = ceil(N / 512) consecutive rows, one
//     thread block each. Per row: one block reduction for sum(dout w x), then
//     dx; each thread also adds dout x r of its columns into the row block's
//     fp32 partial row in the workspace (only that thread ever touches those
//     words, so no atomics and no race).
//   rmsnorm_bwd_dweight_kernel: one thread per column adds the partial rows in
//     row-block order and adds the sum into dweight once (one rounding for
//     f16/bf16). The partition depends only on N, so the bits of dweight do
//     not depend on the GPU or the schedule: deterministic by construction.
//   Workspace: rmsnorm_bwd_workspace_bytes(N, C) = ceil(N / R) * C * 4 bytes (<= 512 rows of C floats).
//
// Cost per row: fwd 3C FLOPs, reads 2 C sizeof(T) (second from cache) + C w,
//   writes C sizeof(T) + 4; bwd ~8C FLOPs, reads 2 x + 2 dout rows (second
//   from cache), writes dx, plus 2 * 4C bytes of partial-row traffic per row
//   (L2 resident for a row block); dweight pass reads min(N,512) * 4C bytes.
//   DRAM bytes that cannot be avoided (what bench/gpu counts; s = sizeof(T)):
//   fwd 2 N C s + C s + 4 N (x, out, weight, rstd); bwd 3 N C s + 4 N + 3 C s
//   + 8 C nb (x, dout, dx, rstd, weight, dweight read and written, and the
//   nb = ceil(N / R) fp32 partial rows written once and read once).
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
// TODO: 128-bit loads for f16/bf16 rows (today 2-byte coalesced accesses).
//
// Emulator: the block reductions have barriers; the tests run every schedule
// with poisoned shared memory and expect the same bits.
#include "block_reduce.cuh"
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;
constexpr int64_t kMaxRowBlocks = 512;

// R = ceil(N / 512) rows per block and ceil(N / R) blocks, so no block is empty
// (an empty one would leave its partial row unwritten).
int64_t rows_per_block(int64_t n) { return (n + kMaxRowBlocks - 1) / kMaxRowBlocks; }
int64_t row_blocks(int64_t n) { return n == 0 ? 0 : (n + rows_per_block(n) - 1) / rows_per_block(n); }

template <class T>
__global__ void __launch_bounds__(kThreads) rmsnorm_fwd_kernel(const T* __restrict__ x, const T* __restrict__ weight,
                                                               T* __restrict__ out, float* __restrict__ rstd,
                                                               int64_t c, float eps) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(float, scratch, [32]);
  const T* xr = x + int64_t(blockIdx.x) * c;
  T* outr = out + int64_t(blockIdx.x) * c;
  float sum_sq = 0.0f;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
    const float v = to_float(xr[j]);
    sum_sq += v * v;
  }
  const float r = 1.0f / sqrtf(block_reduce_sum(sum_sq, scratch) / float(c) + eps);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) outr[j] = from_float<T>(to_float(xr[j]) * r * to_float(weight[j]));
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    rmsnorm_bwd_kernel(const T* __restrict__ dout, const T* __restrict__ x, const T* __restrict__ weight,
                       const float* __restrict__ rstd, T* __restrict__ dx, float* __restrict__ partial, int64_t n,
                       int64_t c, int64_t rows_per_block) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(float, scratch, [32]);
  float* part = partial + int64_t(blockIdx.x) * c;
  const int64_t first = int64_t(blockIdx.x) * rows_per_block;
  const int64_t last = first + rows_per_block < n ? first + rows_per_block : n;
  for (int64_t row = first; row < last; ++row) {
    const T* dr = dout + row * c;
    const T* xr = x + row * c;
    float dot = 0.0f;
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) dot += to_float(dr[j]) * to_float(weight[j]) * to_float(xr[j]);
    const float r = rstd[row];
    const float coef = r * r * block_reduce_sum(dot, scratch) / float(c);
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
      const float d = to_float(dr[j]), xj = to_float(xr[j]);
      dx[row * c + j] = from_float<T>(r * (d * to_float(weight[j]) - xj * coef));
      const float dw = d * xj * r;
      part[j] = row == first ? dw : part[j] + dw;
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    rmsnorm_bwd_dweight_kernel(const float* __restrict__ partial, T* __restrict__ dweight, int64_t c, int64_t blocks) {
  kernel_launch_bounds(kThreads);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < c; j += stride) {
    float sum = 0.0f;
    for (int64_t k = 0; k < blocks; ++k) sum += partial[k * c + j];  // row-block order: fixed association
    dweight[j] = from_float<T>(to_float(dweight[j]) + sum);
  }
}

kstatus check_shape(const char* op, int64_t n, int64_t c) {
  if (kstatus s = check_size(op, "n", n)) return s;
  if (c <= 0) return invalid(op, "c = " + std::to_string(c) + " must be positive");
  if (n > int64_t(0x7fffffff)) return invalid(op, "n = " + std::to_string(n) + " rows exceed the grid (2^31 - 1)");
  return KSTATUS_OK;
}

}  // namespace

namespace WPM_KERNELS_NS {

int64_t rmsnorm_bwd_workspace_bytes(int64_t n, int64_t c) { return row_blocks(n) * c * int64_t(sizeof(float)); }

kstatus rmsnorm_fwd(kstream_t stream, const void* x, const void* weight, void* out, float* rstd, int64_t n, int64_t c,
                    float eps, kdtype dtype) {
  if (kstatus s = check_shape("rmsnorm_fwd", n, c)) return s;
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("rmsnorm_fwd", !x || !weight || !out || !rstd)) return s;
  return dispatch_dtype("rmsnorm_fwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    klaunch_min_bytes((2 * uint64_t(n) + 1) * uint64_t(c) * sizeof(T) + 4 * uint64_t(n));  // x, weight; out, rstd
    return klaunch(rmsnorm_fwd_kernel<T>, dim3(unsigned(n)), dim3(kThreads), 0, stream, static_cast<const T*>(x),
                   static_cast<const T*>(weight), static_cast<T*>(out), rstd, c, eps);
  });
}

kstatus rmsnorm_bwd(kstream_t stream, const void* dout, const void* x, const void* weight, const float* rstd, void* dx,
                    void* dweight, void* workspace, int64_t n, int64_t c, kdtype dtype) {
  if (kstatus s = check_shape("rmsnorm_bwd", n, c)) return s;
  if (n == 0) return KSTATUS_OK;  // no rows: dx is empty and dweight gains nothing
  if (kstatus s = check_pointers("rmsnorm_bwd", !dout || !x || !weight || !rstd || !dx || !dweight || !workspace))
    return s;
  const int64_t blocks = row_blocks(n), rows = rows_per_block(n);
  float* partial = static_cast<float*>(workspace);
  return dispatch_dtype("rmsnorm_bwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    if (kstatus s = klaunch(rmsnorm_bwd_kernel<T>, dim3(unsigned(blocks)), dim3(kThreads), 0, stream,
                            static_cast<const T*>(dout), static_cast<const T*>(x), static_cast<const T*>(weight),
                            rstd, static_cast<T*>(dx), partial, n, c, rows))
      return s;
    return klaunch(rmsnorm_bwd_dweight_kernel<T>, grid_for(c, kThreads), dim3(kThreads), 0, stream,
                   static_cast<const float*>(partial), static_cast<T*>(dweight), c, blocks);
  });
}

}  // namespace WPM_KERNELS_NS
