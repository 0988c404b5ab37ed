// Token embedding: gather forward, deterministic scatter-add backward.
//
//   ids i32 [N], table, dtable [V, C], out, dout [N, C] (f32 / f16 / bf16).
//   fwd:  out[n, :] = table[ids[n], :]                   copies in the storage dtype
//   bwd:  dtable[v, :] += sum, in token order, of dout[n, :] over the tokens
//         n with ids[n] = v                               ACCUMULATES, once per id
//
// ids are device data, so the launchers cannot check them: an id outside 0..V-1
// never reads or writes out of bounds; the forward writes a NaN row for it and
// the backward skips it. The backend validates ids where it can.
//
// Tiling:
//   fwd: one block of 256 threads per token (grid N), threads stride over C.
//   bwd: sort-free and atomic-free. Block (n, k) owns token n and the column
//     chunk [256 k, 256 k + 256), one column per thread (grid N x ceil(C/256)).
//     The block first scans ids[0..n) for an earlier token with the same id
//     (strided over its threads, a shared flag between two barriers); if there
//     is one, that earlier token's block does the work and this block exits.
//     Otherwise each thread walks tokens n..N-1 IN ORDER, adds dout[m, col] of
//     every token with the same id to an fp32 register, and adds the sum into
//     dtable once (one rounding per element for f16/bf16, however often the id
//     repeats). Every dtable element has exactly one writer, and its sum has a
//     fixed order: deterministic by construction.
//   Cost: fwd no FLOPs; N C sizeof(T) bytes of table rows read + N C sizeof(T)
//     written + 4 N of ids. bwd N C adds (fp32); dout is read exactly once and
//     each touched dtable row once (N C sizeof(T) + 2 U C sizeof(T) bytes for U
//     distinct ids, + 4 N of ids), but the id
//     scans are O(N^2) integer compares in total (N^2/2 / 256 per column chunk
//     for the duplicate checks, broadcast loads from L1), and a first-occurrence
//     block walks N - n ids serially. Fine for a few thousand tokens per step;
//     at N = 16k the serial walks (~16k dependent iterations) dominate.
//     TODO: for large N, a device sort of (id, n) pairs and a segmented sum.
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: the bwd duplicate flag is between two barriers; the tests run
// every schedule and expect the same bits.
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;

template <class T>
__global__ void __launch_bounds__(kThreads)
    embedding_fwd_kernel(const int32_t* __restrict__ ids, const T* __restrict__ table, T* __restrict__ out,
                         int64_t vocab, int64_t c) {
  kernel_launch_bounds(kThreads);
  const int64_t n = blockIdx.x;
  const int64_t id = ids[n];
  const bool valid = id >= 0 && id < vocab;
  const T* src = table + (valid ? id : 0) * c;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) out[n * c + j] = valid ? src[j] : from_float<T>(NAN);
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    embedding_bwd_kernel(const int32_t* __restrict__ ids, const T* __restrict__ dout, T* __restrict__ dtable,
                         int64_t n, int64_t vocab, int64_t c) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(int, seen_before, [1]);
  const int64_t token = blockIdx.x;
  const int32_t id = ids[token];
  if (threadIdx.x == 0) seen_before[0] = 0;
  // The flag is cleared before any thread may set it.
  __syncthreads();
  for (int64_t m = threadIdx.x; m < token; m += blockDim.x)
    if (ids[m] == id) seen_before[0] = 1;  // every writer stores the same value
  // Every thread's scan is done before anyone reads the flag.
  __syncthreads();
  if (seen_before[0] != 0 || id < 0 || id >= vocab) return;
  const int64_t col = int64_t(blockIdx.y) * blockDim.x + threadIdx.x;
  if (col >= c) return;
  float sum = 0.0f;
  for (int64_t m = token; m < n; ++m)
    if (ids[m] == id) sum += to_float(dout[m * c + col]);
  T* dst = dtable + int64_t(id) * c + col;
  *dst = from_float<T>(to_float(*dst) + sum);
}

kstatus check(const char* op, int64_t n, int64_t vocab, int64_t c, bool any_null) {
  if (kstatus s = check_size(op, "n", n)) return s;
  if (kstatus s = check_size(op, "c", c)) return s;
  if (vocab <= 0) return invalid(op, "vocab = " + std::to_string(vocab) + " must be positive");
  if (n > int64_t(0x7fffffff)) return invalid(op, "n = " + std::to_string(n) + " exceeds the grid (2^31 - 1)");
  if ((c + kThreads - 1) / kThreads > 65535) return invalid(op, "c = " + std::to_string(c) + " is too wide");
  if (n * c > 0 && any_null) return invalid(op, "a pointer is null");
  return KSTATUS_OK;
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus embedding_fwd(kstream_t stream, const int32_t* ids, const void* table, void* out, int64_t n, int64_t vocab,
                      int64_t c, kdtype dtype) {
  if (kstatus s = check("embedding_fwd", n, vocab, c, !ids || !table || !out)) return s;
  if (n * c == 0) return KSTATUS_OK;
  return dispatch_dtype("embedding_fwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    klaunch_min_bytes(uint64_t(n) * (4 + 2 * uint64_t(c) * sizeof(T)));  // ids, the rows read and written
    return klaunch(embedding_fwd_kernel<T>, dim3(unsigned(n)), dim3(kThreads), 0, stream, ids,
                   static_cast<const T*>(table), static_cast<T*>(out), vocab, c);
  });
}

kstatus embedding_bwd(kstream_t stream, const int32_t* ids, const void* dout, void* dtable, int64_t n, int64_t vocab,
                      int64_t c, kdtype dtype) {
  if (kstatus s = check("embedding_bwd", n, vocab, c, !ids || !dout || !dtable)) return s;
  if (n * c == 0) return KSTATUS_OK;
  return dispatch_dtype("embedding_bwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    const dim3 grid(unsigned(n), unsigned((c + kThreads - 1) / kThreads));
    return klaunch(embedding_bwd_kernel<T>, grid, dim3(kThreads), 0, stream, ids, static_cast<const T*>(dout),
                   static_cast<T*>(dtable), n, vocab, c);
  });
}

}  // namespace WPM_KERNELS_NS
