// Non-temporal ("streaming") stores for outputs that are written once and not
// read back soon: the dense gradient of last-token pooling, a large GELU
// output.
//
// A plain store to a line that is not in cache first reads that line from
// memory (read-for-ownership), so writing N bytes moves 2N; a streaming store
// writes whole lines through write-combining buffers and moves N. It also
// leaves the cache to the data that will be read. The price: the written data
// is not in cache afterwards, so only outputs well beyond the caches should
// stream (worth_streaming). A 128 MiB zero fill through streaming stores runs
// at the parallel memcpy rate, about twice as fast as memset, plain stores or
// rep stosb (bench/RESULTS.md has the figures).
//
// SSE2 is part of x86-64, so these need no run-time dispatch.
#pragma once

#include <cstddef>

namespace wpm {

// Outputs at least this big are streamed. Both cores' L2 together hold 4 MiB
// here; above twice that a plain store mostly misses anyway, and the data
// would be evicted before a later op read it back from L2.
constexpr size_t kStreamingMinBytes = size_t(8) << 20;

inline bool worth_streaming(size_t output_bytes) { return output_bytes >= kStreamingMinBytes; }

// dst[0, bytes) = 0 / = src[0, bytes), through streaming stores for the
// 16-byte aligned middle (plain stores for the unaligned ends). The stores are
// fenced before returning, so the data is visible to the next op on any thread.
void stream_zero(void* dst, size_t bytes);
void stream_copy(void* dst, const void* src, size_t bytes);

}  // namespace wpm
