// Non-temporal ("streaming") stores for outputs that are written once and not
// read back soon: the dense gradient of last-token pooling, a large GELU
// output.
//
// A plain store to a line that is not in cache first reads that line from
// memory (read-for-ownership), so writing N bytes moves 2N; a streaming store
// writes whole lines through write-combining buffers and moves N. It also
// leaves the cache to the data that will be read. The price: the written data
// is not in cache afterwards, so only outputs well beyond the caches should
// stream (worth_streaming).
//
// Measured (2-vCPU AVX-512 Xeon VM, 2 threads, 128 MiB zero fill, min of 15):
// 16- or 64-byte streaming stores 2.8-3.3 ms (41-48 GB/s, at the parallel
// memcpy rate of 43-44 GB/s); memset per 4 KiB row 6.6-6.7 ms, 64-byte plain
// stores 6.8-6.9 ms, rep stosb 5.3-5.9 ms.
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
