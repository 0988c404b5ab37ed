// RMSNorm, forward and backward.
//
//   x, out, dout, dx [N, C]; weight, dweight [C] (x's dtype: f32 / f16 / bf16);
//   rstd f32 [N] saved by the forward for the backward. fp32 math.
//   fwd:  r = 1 / sqrt(mean_j x_j^2 + eps),  out_j = x_j r w_j,  rstd = r
//   bwd:  dx_j = r (dout_j w_j - x_j r^2 mean_k(dout_k w_k x_k))   (overwrites dx)
//         dweight_j += sum_n dout_nj x_nj r_n                      (ACCUMULATES)
//
// Tiling (both kernels): 256 threads a block, thread t owns the columns
//   j = t + 256 k of every row. A block stages the weight row in dynamic
//   shared memory once and each input row there as it reads it, so every
//   global element is read once per block however many passes the math
//   needs; a thread reads back only its own columns, so the staging needs no
//   barrier of its own.
//   rmsnorm_fwd_kernel: kFwdRowsPerBlock consecutive rows a block. Per row:
//     x into shared memory with the sum of squares, a deterministic block
//     reduction (block_reduce.cuh), then out from the staged row and weight.
//   rmsnorm_bwd_kernel: row blocks of R = max(ceil(N / 512), 4) consecutive
//     rows, one thread block each. Per row: dout and x into shared memory
//     with sum(dout w x), one block reduction (thread 0 reads rstd and
//     shares it through shared memory), then dx; each thread also adds
//     dout x r of its columns into the row block's fp32 partial row, kept in
//     shared memory and written to the workspace once, after the last row.
//   rmsnorm_bwd_dweight_kernel: one thread per column adds the partial rows in
//     row-block order and adds the sum into dweight once (one rounding for
//     f16/bf16). The partition depends only on N, so the bits of dweight do
//     not depend on the GPU or the schedule: deterministic by construction.
//   Workspace: rmsnorm_bwd_workspace_bytes(N, C) = ceil(N / R) * C * 4 bytes (<= 512 rows of C floats).
//   Dynamic shared memory (s = sizeof(T)): fwd 2 C s (weight, x), bwd C (4 + 3 s)
//   (partial row, weight, x, dout); a C whose rows do not fit a block
//   (kMaxStagedBytes) is refused naming c.
//
// Cost per row: fwd 3C FLOPs, bwd ~8C FLOPs. Minimum bytes (inputs read once,
//   outputs written once; stated by the launchers, s = sizeof(T), nb = ceil(N / R)):
//   fwd 2 N C s + C s + 4 N (x, out, weight, rstd); bwd 3 N C s + C s + 4 N
//   + 4 C nb (dout, x, dx, weight, rstd, the partial rows written); dweight
//   4 C nb + 2 C s (the partial rows read, dweight read and written). Each
//   block reads the weight row once, where the minimum counts it once in all:
//   at most 1 / (2 kFwdRowsPerBlock) over it in the forward, 1 / (3 R) in the
//   backward.
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
constexpr int64_t kFwdRowsPerBlock = 8;
constexpr int64_t kMaxRowBlocks = 512;
constexpr int64_t kMinBwdRowsPerBlock = 4;  // each row block writes a partial row and reads the weight once
// The most dynamic shared memory a block of these kernels takes: sm_80's per-block limit (163 KB; sm_90 allows
// more) less room for their static shared memory.
constexpr size_t kMaxStagedBytes = 160 * 1024;

// R = max(ceil(N / 512), 4) rows per block and ceil(N / R) blocks, so no block is empty (an empty one would
// leave its partial row unwritten).
int64_t rows_per_block(int64_t n) {
  const int64_t spread = (n + kMaxRowBlocks - 1) / kMaxRowBlocks;
  return spread > kMinBwdRowsPerBlock ? spread : kMinBwdRowsPerBlock;
}
int64_t row_blocks(int64_t n) { return n == 0 ? 0 : (n + rows_per_block(n) - 1) / rows_per_block(n); }

template <class T>
size_t fwd_staged_bytes(int64_t c) { return 2 * size_t(c) * sizeof(T); }  // weight, x
template <class T>
size_t bwd_staged_bytes(int64_t c) { return size_t(c) * (sizeof(float) + 3 * sizeof(T)); }  // partial, weight, x, dout

// The block's rows: rows_per_block consecutive ones from blockIdx.x * rows_per_block, fewer in the last block.
struct RowRange {
  int64_t first, last;
};
__device__ __forceinline__ RowRange block_rows(int64_t n, int64_t rows_per_block) {
  const int64_t first = int64_t(blockIdx.x) * rows_per_block;
  return {first, first + rows_per_block < n ? first + rows_per_block : n};
}

// This thread's columns of a row copied into shared memory: only this thread reads them back, so no barrier.
template <class T>
__device__ __forceinline__ void stage_own_columns(T* staged, const T* row, int64_t c) {
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) staged[j] = row[j];
}

template <class T>
__global__ void __launch_bounds__(kThreads) rmsnorm_fwd_kernel(const T* __restrict__ x, const T* __restrict__ weight,
                                                               T* __restrict__ out, float* __restrict__ rstd,
                                                               int64_t n, int64_t c, float eps) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(float, scratch, [32]);
  T* const w_s = emu_dynamic_smem<T>();
  T* const x_s = w_s + c;
  stage_own_columns(w_s, weight, c);
  const RowRange rows = block_rows(n, kFwdRowsPerBlock);
  for (int64_t row = rows.first; row < rows.last; ++row) {
    const T* xr = x + row * c;
    float sum_sq = 0.0f;
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
      const T xj = xr[j];
      x_s[j] = xj;
      const float v = to_float(xj);
      sum_sq += v * v;
    }
    const float r = 1.0f / sqrtf(block_reduce_sum(sum_sq, scratch) / float(c) + eps);
    if (threadIdx.x == 0) rstd[row] = r;
    T* outr = out + row * c;
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x)
      outr[j] = from_float<T>(to_float(x_s[j]) * r * to_float(w_s[j]));
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    rmsnorm_bwd_kernel(const T* __restrict__ dout, const T* __restrict__ x, const T* __restrict__ weight,
                       const float* __restrict__ rstd, T* __restrict__ dx, float* __restrict__ partial, int64_t n,
                       int64_t c, int64_t rows_per_block) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(float, scratch, [32]);
  // rstd of the row, read once by thread 0 and shared: by row parity, so thread 0 writing the next row's
  // value cannot overwrite one a slow thread has yet to read (it would first wait at the next reduction).
  EMU_SHARED(float, r_s, [2]);
  float* const part_s = emu_dynamic_smem<float>();
  T* const w_s = reinterpret_cast<T*>(part_s + c);
  T* const x_s = w_s + c;
  T* const d_s = x_s + c;
  stage_own_columns(w_s, weight, c);
  const RowRange rows = block_rows(n, rows_per_block);
  for (int64_t row = rows.first; row < rows.last; ++row) {
    const T* dr = dout + row * c;
    const T* xr = x + row * c;
    if (threadIdx.x == 0) r_s[row & 1] = rstd[row];
    float dot = 0.0f;
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
      const T dj = dr[j], xj = xr[j];
      d_s[j] = dj;
      x_s[j] = xj;
      dot += to_float(dj) * to_float(w_s[j]) * to_float(xj);
    }
    const float sum = block_reduce_sum(dot, scratch);  // its barriers also publish r_s
    const float r = r_s[row & 1];
    const float coef = r * r * sum / float(c);
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
      const float d = to_float(d_s[j]), xj = to_float(x_s[j]);
      dx[row * c + j] = from_float<T>(r * (d * to_float(w_s[j]) - xj * coef));
      const float dw = d * xj * r;
      part_s[j] = row == rows.first ? dw : part_s[j] + dw;
    }
  }
  float* part = partial + int64_t(blockIdx.x) * c;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) part[j] = part_s[j];
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

kstatus check_staged(const char* op, int64_t c, size_t bytes) {
  if (bytes <= kMaxStagedBytes) return KSTATUS_OK;
  return invalid(op, "c = " + std::to_string(c) + " columns take " + std::to_string(bytes) +
                         " bytes of shared memory staged, over the " + std::to_string(kMaxStagedBytes) +
                         " a block may have");
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
    const size_t smem = fwd_staged_bytes<T>(c);
    if (kstatus s = check_staged("rmsnorm_fwd", c, smem)) return s;
    const uint64_t row = uint64_t(c) * sizeof(T);
    klaunch_min_bytes(2 * uint64_t(n) * row + row + 4 * uint64_t(n));  // x, out; weight; rstd
    const int64_t blocks = (n + kFwdRowsPerBlock - 1) / kFwdRowsPerBlock;
    return klaunch(rmsnorm_fwd_kernel<T>, dim3(unsigned(blocks)), dim3(kThreads), smem, stream,
                   static_cast<const T*>(x), static_cast<const T*>(weight), static_cast<T*>(out), rstd, n, c, eps);
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
    const size_t smem = bwd_staged_bytes<T>(c);
    if (kstatus s = check_staged("rmsnorm_bwd", c, smem)) return s;
    const uint64_t row = uint64_t(c) * sizeof(T), partial_bytes = uint64_t(blocks) * uint64_t(c) * sizeof(float);
    // dout, x, dx; weight; rstd; the partial rows written
    klaunch_min_bytes(3 * uint64_t(n) * row + row + 4 * uint64_t(n) + partial_bytes);
    if (kstatus s = klaunch(rmsnorm_bwd_kernel<T>, dim3(unsigned(blocks)), dim3(kThreads), smem, stream,
                            static_cast<const T*>(dout), static_cast<const T*>(x), static_cast<const T*>(weight),
                            rstd, static_cast<T*>(dx), partial, n, c, rows))
      return s;
    klaunch_min_bytes(partial_bytes + 2 * row);  // the partial rows read; dweight read and written
    return klaunch(rmsnorm_bwd_dweight_kernel<T>, grid_for(c, kThreads), dim3(kThreads), 0, stream,
                   static_cast<const float*>(partial), static_cast<T*>(dweight), c, blocks);
  });
}

}  // namespace WPM_KERNELS_NS
