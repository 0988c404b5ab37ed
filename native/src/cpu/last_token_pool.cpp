// Last-token pooling on the CPU: the hidden state of each sequence's scoring
// token, and its backward.
//
//   hidden [B, T, C], lengths i32 [B] in 1..T, out [B, C]
//   s_b = lengths[b] - 1 (right padding) or T - 1 (left padding)
//   fwd:  out[b, :] = hidden[b, s_b, :]            touches only the B scoring rows
//   bwd:  dhidden[b, t, :] = t == s_b ? dout[b, :] : 0   writes every row
//
// The backward is a B*T*C write of mostly zeros, so it is bound by memory
// bandwidth; a large one goes out through streaming stores (streaming_store.h),
// which skip the read-for-ownership of each line a plain store would pay.
// Current: at W3's shape (128 MiB) the backward writes at the machine's copy
// rate; bench/RESULTS.md has the figures against a memset per row.
//
// Both directions are row copies in the storage dtype (no conversion), so one
// byte-level implementation serves f32, f16 and bf16.
//
// lengths live in device memory, so the boundary cannot range-check them; they
// are checked here, all of them before anything is written, and a bad one is
// reported with its index and value.
#include <algorithm>
#include <cstring>

#include "../error.h"
#include "../value_checks.h"
#include "cpu_backend.h"
#include "streaming_store.h"

namespace wpm {

namespace {

// At least this many bytes per chunk. A row copy is pure memory traffic (tens
// of microseconds per 256 KB), so waking a thread only pays above that: the
// forward of a usual batch (B rows) stays on the calling thread.
constexpr int64_t kMinChunkBytes = 1 << 18;

int64_t scoring_token(const int32_t* lengths, int64_t i, int64_t t, wpm_padding padding) {
  return padding == WPM_PAD_LEFT ? t - 1 : int64_t(lengths[i]) - 1;
}

int64_t rows_per_chunk(size_t row_bytes) { return std::max<int64_t>(1, kMinChunkBytes / int64_t(row_bytes)); }

}  // namespace

wpm_status CpuBackend::last_token_pool_fwd(const void* hidden, const int32_t* lengths, void* out, int64_t b, int64_t t,
                                           int64_t c, wpm_padding padding, wpm_dtype dtype) {
  wpm_status status = check_lengths("wpm_last_token_pool_fwd", lengths, b, t);
  if (status != WPM_OK) return status;
  const size_t row_bytes = size_t(c) * wpm_dtype_size(dtype);
  const char* src = static_cast<const char*>(hidden);
  char* dst = static_cast<char*>(out);
  pool_.parallel_for(b, rows_per_chunk(row_bytes), [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t row = i * t + scoring_token(lengths, i, t, padding);
      std::memcpy(dst + size_t(i) * row_bytes, src + size_t(row) * row_bytes, row_bytes);
    }
  });
  return WPM_OK;
}

wpm_status CpuBackend::last_token_pool_bwd(const void* dout, const int32_t* lengths, void* dhidden, int64_t b,
                                           int64_t t, int64_t c, wpm_padding padding, wpm_dtype dtype) {
  wpm_status status = check_lengths("wpm_last_token_pool_bwd", lengths, b, t);
  if (status != WPM_OK) return status;
  const size_t row_bytes = size_t(c) * wpm_dtype_size(dtype);
  const char* src = static_cast<const char*>(dout);
  char* dst = static_cast<char*>(dhidden);
  const bool stream = worth_streaming(size_t(b * t) * row_bytes);
  auto zero_rows = [&](int64_t first, int64_t last) {
    if (first >= last) return;
    const size_t bytes = size_t(last - first) * row_bytes;
    if (stream) stream_zero(dst + size_t(first) * row_bytes, bytes);
    else std::memset(dst + size_t(first) * row_bytes, 0, bytes);
  };
  // Over all B*T rows, so the zero fill (the bulk of the work) is spread too;
  // each worker writes its rows front to back, the zero runs between scoring
  // rows in one call each. Zero bits are 0.0 in f32, f16 and bf16 alike.
  pool_.parallel_for(b * t, rows_per_chunk(row_bytes), [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin / t; i * t < end; ++i) {
      const int64_t scoring = i * t + scoring_token(lengths, i, t, padding);
      const int64_t first = std::max(begin, i * t), last = std::min(end, (i + 1) * t);
      if (scoring < first || scoring >= last) {
        zero_rows(first, last);
        continue;
      }
      zero_rows(first, scoring);
      char* to = dst + size_t(scoring) * row_bytes;
      if (stream) stream_copy(to, src + size_t(i) * row_bytes, row_bytes);
      else std::memcpy(to, src + size_t(i) * row_bytes, row_bytes);
      zero_rows(scoring + 1, last);
    }
  });
  return WPM_OK;
}

}  // namespace wpm
