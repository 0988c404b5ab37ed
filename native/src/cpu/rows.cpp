// Rows by index on the CPU (backend.h, RowsArgs): the token embedding's gather forward and scatter-add
// backward, which are also the row ops wpm_rows_gather / wpm_rows_scatter_add. In the embedding's names:
//
//   ids i32 [N], table, dtable [V, C], out, dout [N, C] (f32 / f16 / bf16).
//   fwd:  out[n, :] = table[ids[n], :]        row copies in the storage dtype
//   bwd:  dtable[v, :] += sum over the tokens n with ids[n] = v, in token
//         order, of dout[n, :]                accumulates
//
// The backward is deterministic and independent of the thread count, without
// atomics: the tokens are sorted by (id, position), so the tokens of one id
// form a run in token order; threads split the C columns, and each walks every
// run, sums its dout rows in fp32 and adds the sum to dtable once (one
// rounding per element for f16/bf16 tables, however often an id repeats).
//
// ids live in device memory, so the boundary cannot range-check them; they are
// checked here, all of them before anything is written, and a bad one is
// reported with its index and value.
#include <algorithm>
#include <cstring>
#include <vector>

#include "../error.h"
#include "../value_checks.h"
#include "cpu_backend.h"
#include "elementwise.h"

namespace wpm {

namespace {

template <class T>
WPM_SIMD_CLONES void accumulate(float* acc, const T* src, int64_t len) {
  for (int64_t j = 0; j < len; ++j) acc[j] += load(src, j);
}

template <class T>
WPM_SIMD_CLONES void add_into(T* dst, const float* acc, int64_t len) {
  for (int64_t j = 0; j < len; ++j) store(dst, j, load(dst, j) + acc[j]);
}

}  // namespace

wpm_status CpuBackend::gather_rows(const RowsArgs& a) {
  wpm_status status = check_row_index(a.function, a.index_name, a.rows_name, a.index, a.n, a.rows);
  if (status != WPM_OK) return status;
  const int32_t* ids = a.index;
  const int64_t n = a.n, c = a.c;
  const size_t row_bytes = size_t(c) * wpm_dtype_size(a.dtype);
  const char* src = static_cast<const char*>(a.src);
  char* dst = static_cast<char*>(a.dst);
  const int64_t min_rows = std::max<int64_t>(1, kElementwiseChunk / std::max<int64_t>(c, 1));
  pool_.parallel_for(n, min_rows, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i)
      std::memcpy(dst + size_t(i) * row_bytes, src + size_t(ids[i]) * row_bytes, row_bytes);
  });
  return WPM_OK;
}

wpm_status CpuBackend::scatter_add_rows(const RowsArgs& a) {
  wpm_status status = check_row_index(a.function, a.index_name, a.rows_name, a.index, a.n, a.rows);
  if (status != WPM_OK) return status;
  const int32_t* ids = a.index;
  const int64_t n = a.n, c = a.c;
  const void* dout = a.src;
  void* dtable = a.dst;
  if (n == 0 || c == 0) return WPM_OK;
  // Tokens stably sorted by id: runs of equal ids, each in token order.
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [ids](int64_t a, int64_t b) { return ids[a] < ids[b]; });
  // Columns per chunk: at least a cache line, and enough work to pay for a thread.
  const int64_t min_cols = std::max<int64_t>(16, kElementwiseChunk / n);
  const int chunks = pool_.chunk_count(c, min_cols);
  std::vector<float> scratch(size_t(chunks) * (c / chunks + 1));
  return dispatch_float(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* douts = static_cast<const T*>(dout);
    T* table = static_cast<T*>(dtable);
    // parallel_for hands chunk i to worker i, so the worker index picks the scratch.
    pool_.parallel_for(c, min_cols, [&](int64_t begin, int64_t end, int worker) {
      const int64_t len = end - begin;
      float* acc = scratch.data() + size_t(worker) * (c / chunks + 1);
      for (int64_t run = 0; run < n;) {
        const int32_t id = ids[order[run]];
        std::fill(acc, acc + len, 0.0f);
        for (; run < n && ids[order[run]] == id; ++run) accumulate(acc, douts + order[run] * c + begin, len);
        add_into(table + int64_t(id) * c + begin, acc, len);
      }
    });
    return WPM_OK;
  });
}

}  // namespace wpm
