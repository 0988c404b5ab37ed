// RMSNorm on the CPU, forward and backward.
//
//   x, out, dout, dx [N, C]; weight, dweight [C] (x's dtype); rstd f32 [N].
//   fwd:  r = 1 / sqrt(mean_j x_j^2 + eps),  out_j = x_j r w_j,  rstd saved
//   bwd:  dx_j = r (dout_j w_j - x_j r^2 mean_k(dout_k w_k x_k))   (overwrites)
//         dweight_j += sum_n dout_nj x_nj r_n                      (accumulates)
//
// Threads take contiguous blocks of rows. Row sums use 16 independent fp32
// lanes (fixed order, so vectorised without -ffast-math). dweight is
// deterministic without atomics: each chunk sums its rows into its own fp32
// partial row, and the partials are added to dweight in chunk order (for a
// given thread count the bits never change). f16/bf16 rows are converted to
// fp32 once into a per-chunk scratch row, so all the math runs in the fp32
// kernels below and the data is read once.
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "elementwise.h"

namespace wpm {

namespace {

constexpr int kLanes = 16;

// Dot product of a and b with kLanes partial sums, combined in a fixed order.
WPM_SIMD_CLONES float dot(const float* a, const float* b, int64_t c) {
  float lane[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= c; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += a[j + l] * b[j + l];
  for (; j < c; ++j) lane[j % kLanes] += a[j] * b[j];
  float sum = 0;
  for (int l = 0; l < kLanes; ++l) sum += lane[l];
  return sum;
}

WPM_SIMD_CLONES void normalize_row(const float* x, const float* w, float r, float* out, int64_t c) {
  for (int64_t j = 0; j < c; ++j) out[j] = x[j] * r * w[j];
}

// dx = r (dout w - x coef), dweight_partial += dout x r; wdout holds dout * w.
WPM_SIMD_CLONES void rmsnorm_bwd_row(const float* dout, const float* wdout, const float* x, float r, float coef,
                                     float* dx, float* dweight_partial, int64_t c) {
  for (int64_t j = 0; j < c; ++j) {
    const float xj = x[j];
    dweight_partial[j] += dout[j] * xj * r;
    dx[j] = r * (wdout[j] - xj * coef);
  }
}

WPM_SIMD_CLONES void multiply(const float* a, const float* b, float* out, int64_t c) {
  for (int64_t j = 0; j < c; ++j) out[j] = a[j] * b[j];
}

int64_t rows_per_chunk(int64_t c) { return std::max<int64_t>(1, kElementwiseChunk / std::max<int64_t>(c, 1)); }

// A row of storage type T seen as fp32: the row itself for float, else converted into scratch.
template <class T>
const float* row_as_float(const T* row, float* scratch, int64_t c) {
  if constexpr (std::is_same_v<T, float>) {
    return row;
  } else {
    to_float(row, scratch, c);
    return scratch;
  }
}

// Where to compute an output row of type T: in place for float, else in scratch (then stored).
template <class T>
float* out_row(T* row, float* scratch) {
  if constexpr (std::is_same_v<T, float>) return row;
  else return scratch;
}

template <class T>
void store_row(const float* values, T* row, int64_t c) {
  if constexpr (!std::is_same_v<T, float>) from_float(values, row, c);
}

}  // namespace

wpm_status CpuBackend::rmsnorm_fwd(const void* x, const void* weight, void* out, float* rstd, int64_t n, int64_t c,
                                   float eps, wpm_dtype dtype) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xs = static_cast<const T*>(x);
    T* outs = static_cast<T*>(out);
    std::vector<float> w(c);
    to_float(static_cast<const T*>(weight), w.data(), c);
    const int64_t min_rows = rows_per_chunk(c);
    const int chunks = pool_.chunk_count(n, min_rows);
    std::vector<float> scratch(size_t(chunks) * 2 * c);  // per chunk: x and out rows for f16/bf16
    // parallel_for hands chunk i to worker i, so the worker index picks the scratch.
    pool_.parallel_for(n, min_rows, [&](int64_t begin, int64_t end, int worker) {
      float* xbuf = scratch.data() + size_t(worker) * 2 * c;
      float* obuf = xbuf + c;
      for (int64_t row = begin; row < end; ++row) {
        const float* xr = row_as_float(xs + row * c, xbuf, c);
        const float r = 1.0f / std::sqrt(dot(xr, xr, c) / float(c) + eps);
        rstd[row] = r;
        float* o = out_row(outs + row * c, obuf);
        normalize_row(xr, w.data(), r, o, c);
        store_row(o, outs + row * c, c);
      }
    });
    return WPM_OK;
  });
}

wpm_status CpuBackend::rmsnorm_bwd(const void* dout, const void* x, const void* weight, const float* rstd, void* dx,
                                   void* dweight, int64_t n, int64_t c, wpm_dtype dtype) {
  if (n == 0) return WPM_OK;  // no rows: dx is empty and dweight gains nothing
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* douts = static_cast<const T*>(dout);
    const T* xs = static_cast<const T*>(x);
    T* dxs = static_cast<T*>(dx);
    std::vector<float> w(c);
    to_float(static_cast<const T*>(weight), w.data(), c);
    const int64_t min_rows = rows_per_chunk(c);
    const int chunks = pool_.chunk_count(n, min_rows);
    // Per chunk: its dweight partial row, then rows for dout*w and (f16/bf16) dout, x and dx.
    const size_t stride = size_t(c) * 5;
    std::vector<float> scratch(size_t(chunks) * stride, 0.0f);
    pool_.parallel_for(n, min_rows, [&](int64_t begin, int64_t end, int worker) {
      float* partial = scratch.data() + size_t(worker) * stride;
      float* wdout = partial + c;
      float* dbuf = wdout + c;
      float* xbuf = dbuf + c;
      float* dxbuf = xbuf + c;
      for (int64_t row = begin; row < end; ++row) {
        const float* dr = row_as_float(douts + row * c, dbuf, c);
        const float* xr = row_as_float(xs + row * c, xbuf, c);
        multiply(dr, w.data(), wdout, c);
        const float r = rstd[row];
        const float coef = r * r * dot(wdout, xr, c) / float(c);
        float* o = out_row(dxs + row * c, dxbuf);
        rmsnorm_bwd_row(dr, wdout, xr, r, coef, o, partial, c);
        store_row(o, dxs + row * c, c);
      }
    });
    // Chunk partials into dweight in chunk order: fixed association, no atomics.
    T* dw = static_cast<T*>(dweight);
    pool_.parallel_for(c, kElementwiseChunk, [&](int64_t begin, int64_t end, int) {
      for (int64_t j = begin; j < end; ++j) {
        float sum = 0;
        for (int k = 0; k < chunks; ++k) sum += scratch[size_t(k) * stride + j];
        store(dw, j, load(dw, j) + sum);
      }
    });
    return WPM_OK;
  });
}

}  // namespace wpm
