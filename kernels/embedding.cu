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
//   bwd: sort by id, then a segmented sum; no atomics, so deterministic by
//     construction. Each token n becomes the key (uint32(id) << 32) | n: keys
//     are unique, so every correct sort gives the same order, and a sorted
//     id's tokens come in token order. An id outside 0..V-1 (a negative one
//     too, as uint32) sorts after every valid id and its segment is skipped.
//     1. sort_tiles: a block sorts 1024 keys in shared memory (bitonic
//        network, 4 keys a thread), grid ceil(N / 1024).
//     2. merge: ceil(log2(N / 1024)) passes, each merging sorted runs of width
//        w into runs of 2w between the two workspace halves. A block owns
//        1024 consecutive outputs of one pair of runs: two threads find where
//        its outputs start and end in the two runs (a binary search, the
//        merge path), the block loads those keys into shared memory, and each
//        key's output place is its index in its own run plus the count of
//        keys below it in the other (a binary search in shared memory).
//     3. segment_sum: block (i, k) owns sorted position i and the column chunk
//        [256 k, 256 k + 256). If i starts an id's segment, thread 0 finds the
//        segment's end (a galloping search, O(log length) keys), the block
//        stages the segment's token indices in shared memory 256 at a time,
//        and each thread adds dout[token, col] over the segment in token order
//        into an fp32 register, then adds the sum into dtable once (one
//        rounding per element for f16/bf16, however often the id repeats).
//        The same order of additions as a per-id loop over tokens: the sums
//        are bitwise those of the CPU backend.
//   Why a comparison sort and not a counting sort by id: counting needs a
//   histogram of V bins (151936 for Qwen2) per block or atomics, and the
//   emulator has no atomics; the sort's work depends on N only.
//   Cost: sort 4 N + 8 N bytes, merge 16 N bytes per pass (the merge-path
//     searches add O(log N) keys per block), segment_sum N C sizeof(T) of dout
//     read once + 2 U C sizeof(T) of dtable rows for U distinct ids + 8 N of
//     keys per column chunk: O(N log N) bytes in all, N C adds (fp32). The
//     segment sum's stated minimum (dout, the keys, 2 U C sizeof(T)) needs U,
//     which is device data: the emulator counts it from the sorted keys when
//     the launch runs (klaunch_min_bytes_at_run).
//   Workspace: embedding_bwd_workspace_bytes(n) = 16 N bytes (two key buffers).
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: every shared-memory hand-over is between two barriers; the tests
// run every schedule and expect the same bits.
#include <utility>

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

constexpr int kSortTile = 1024;  // keys a block sorts or merges: 4 a thread, 8 KB of shared memory
constexpr uint64_t kNoKey = ~uint64_t(0);  // pads a partial tile; above every token's key

__device__ __forceinline__ uint64_t token_key(int32_t id, int64_t token) {
  return (uint64_t(uint32_t(id)) << 32) | uint64_t(token);
}
__device__ __forceinline__ int32_t key_id(uint64_t key) { return int32_t(uint32_t(key >> 32)); }
__device__ __forceinline__ int32_t key_token(uint64_t key) { return int32_t(uint32_t(key)); }

// The number of keys in sorted[0, count) below key.
__device__ __forceinline__ int count_below(const uint64_t* sorted, int count, uint64_t key) {
  int lo = 0, hi = count;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (sorted[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The merge path: how many of the first d keys of merge(a, b) come from a (unique keys).
__device__ __forceinline__ int64_t merge_split(const uint64_t* a, int64_t la, const uint64_t* b, int64_t lb,
                                               int64_t d) {
  int64_t lo = d > lb ? d - lb : 0, hi = d < la ? d : la;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (a[mid] < b[d - 1 - mid]) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

__global__ void __launch_bounds__(kThreads)
    embedding_sort_tiles_kernel(const int32_t* __restrict__ ids, uint64_t* __restrict__ keys, int64_t n) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(uint64_t, tile, [kSortTile]);
  const int64_t base = int64_t(blockIdx.x) * kSortTile;
  for (int i = threadIdx.x; i < kSortTile; i += kThreads)
    tile[i] = base + i < n ? token_key(ids[base + i], base + i) : kNoKey;
  // The tile is loaded before the network reads it, and each step's swaps are done before the next.
  __syncthreads();
  for (int size = 2; size <= kSortTile; size *= 2)
    for (int stride = size / 2; stride > 0; stride /= 2) {
      for (int pair = threadIdx.x; pair < kSortTile / 2; pair += kThreads) {
        const int lo = 2 * pair - (pair & (stride - 1)), hi = lo + stride;
        const bool ascending = (lo & size) == 0;
        const uint64_t x = tile[lo], y = tile[hi];
        if ((x > y) == ascending) {
          tile[lo] = y;
          tile[hi] = x;
        }
      }
      __syncthreads();
    }
  for (int i = threadIdx.x; i < kSortTile; i += kThreads)
    if (base + i < n) keys[base + i] = tile[i];
}

// Runs of width `width` in src (sorted; the last may be shorter) merged pairwise into runs of 2 width in dst.
__global__ void __launch_bounds__(kThreads)
    embedding_merge_kernel(const uint64_t* __restrict__ src, uint64_t* __restrict__ dst, int64_t n, int64_t width) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(uint64_t, tile, [kSortTile]);
  EMU_SHARED(int64_t, split, [2]);
  // 2 width is a multiple of kSortTile, so the block's outputs lie in one pair of runs.
  const int64_t out_begin = int64_t(blockIdx.x) * kSortTile;
  const int64_t pair_begin = out_begin / (2 * width) * (2 * width);
  const int64_t la = n - pair_begin < width ? n - pair_begin : width;
  const int64_t lb = n - pair_begin - la < width ? n - pair_begin - la : width;
  const uint64_t* a = src + pair_begin;
  const uint64_t* b = a + la;
  const int64_t d0 = out_begin - pair_begin, d1 = d0 + kSortTile < la + lb ? d0 + kSortTile : la + lb;
  if (threadIdx.x < 2u) split[threadIdx.x] = merge_split(a, la, b, lb, threadIdx.x == 0 ? d0 : d1);
  // Both ends are found before the block loads between them.
  __syncthreads();
  const int64_t a0 = split[0], b0 = d0 - a0;
  const int na = int(split[1] - a0), nb = int(d1 - split[1] - b0);
  for (int i = threadIdx.x; i < na + nb; i += kThreads) tile[i] = i < na ? a[a0 + i] : b[b0 + i - na];
  // Every key is staged before any thread ranks against the other run.
  __syncthreads();
  for (int i = threadIdx.x; i < na + nb; i += kThreads) {
    const uint64_t key = tile[i];
    const int rank = i < na ? i + count_below(tile + na, nb, key) : i - na + count_below(tile, na, key);
    dst[out_begin + rank] = key;
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    embedding_segment_sum_kernel(const uint64_t* __restrict__ sorted, const T* __restrict__ dout,
                                 T* __restrict__ dtable, int64_t n, int64_t vocab, int64_t c) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(int64_t, segment, [2]);  // {id, or -1 when this block has no segment to sum; its end}
  EMU_SHARED(int32_t, tokens, [kThreads]);
  const int64_t first = blockIdx.x;
  if (threadIdx.x == 0) {
    const int32_t id = key_id(sorted[first]);
    const bool starts = first == 0 || key_id(sorted[first - 1]) != id;
    int64_t end = first + 1;
    if (starts && id >= 0 && id < vocab) {
      // Gallop: `inside` stays in the segment, `end` passes it (or is n), then bisect between.
      int64_t inside = first, step = 1;
      while (end < n && key_id(sorted[end]) == id) {
        inside = end;
        step *= 2;
        end = inside + step < n ? inside + step : n;
      }
      while (end - inside > 1) {
        const int64_t mid = inside + (end - inside) / 2;
        if (key_id(sorted[mid]) == id) inside = mid;
        else end = mid;
      }
    }
    segment[0] = starts && id >= 0 && id < vocab ? id : -1;
    segment[1] = end;
  }
  // The segment is known to every thread before any reads it.
  __syncthreads();
  const int64_t id = segment[0], end = segment[1];
  if (id < 0) return;  // the whole block leaves: no barrier is left behind
  const int64_t col = int64_t(blockIdx.y) * blockDim.x + threadIdx.x;
  const T* column = dout + (col < c ? col : 0);
  float sum = 0.0f;
  for (int64_t base = first; base < end; base += kThreads) {
    const int count = end - base < kThreads ? int(end - base) : kThreads;
    if (int(threadIdx.x) < count) tokens[threadIdx.x] = key_token(sorted[base + threadIdx.x]);
    // The chunk is staged before it is summed, and summed before the next overwrites it.
    __syncthreads();
    if (col < c)
      for (int j = 0; j < count; ++j) sum += to_float(column[int64_t(tokens[j]) * c]);
    __syncthreads();
  }
  if (col >= c) return;
  T* dst = dtable + id * c + col;
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

int64_t embedding_bwd_workspace_bytes(int64_t n) { return n > 0 ? 2 * n * int64_t(sizeof(uint64_t)) : 0; }

kstatus embedding_bwd(kstream_t stream, const int32_t* ids, const void* dout, void* dtable, void* workspace,
                      int64_t n, int64_t vocab, int64_t c, kdtype dtype) {
  if (kstatus s = check("embedding_bwd", n, vocab, c, !ids || !dout || !dtable)) return s;
  if (n * c == 0) return KSTATUS_OK;
  if (!workspace) return invalid("embedding_bwd", "workspace is null (embedding_bwd_workspace_bytes(n) bytes needed)");
  return dispatch_dtype("embedding_bwd", dtype, [&](auto tag) {
    using T = decltype(tag);
    uint64_t* keys = static_cast<uint64_t*>(workspace);
    uint64_t* spare = keys + n;
    const dim3 tiles(unsigned((n + kSortTile - 1) / kSortTile));
    klaunch_min_bytes(uint64_t(n) * (4 + 8));  // ids read, keys written
    if (kstatus s = klaunch(embedding_sort_tiles_kernel, tiles, dim3(kThreads), 0, stream, ids, keys, n)) return s;
    for (int64_t width = kSortTile; width < n; width *= 2) {
      klaunch_min_bytes(uint64_t(n) * 16);  // keys read and written
      if (kstatus s = klaunch(embedding_merge_kernel, tiles, dim3(kThreads), 0, stream, keys, spare, n, width))
        return s;
      std::swap(keys, spare);
    }
    // dout read once, the keys once, and the dtable row of each of the U distinct valid ids read and written
    // once. U is device data: counted from the sorted keys when the launch runs (one key per id starts its run).
    const uint64_t* sorted = keys;
    const uint64_t row = uint64_t(c) * sizeof(T);
    klaunch_min_bytes_at_run([sorted, n, vocab, row] {
      uint64_t distinct = 0;
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t id = sorted[i] >> 32;
        if (id < uint64_t(vocab) && (i == 0 || (sorted[i - 1] >> 32) != id)) ++distinct;
      }
      return uint64_t(n) * (8 + row) + 2 * distinct * row;
    });
    const dim3 grid(unsigned(n), unsigned((c + kThreads - 1) / kThreads));
    return klaunch(embedding_segment_sum_kernel<T>, grid, dim3(kThreads), 0, stream, keys,
                   static_cast<const T*>(dout), static_cast<T*>(dtable), n, vocab, c);
  });
}

}  // namespace WPM_KERNELS_NS
