// Casts between f32, f16 and bf16 on the CPU (any direction, same dtype too).
//
//   dst[i] = src[i] converted with the round-to-nearest-even of half.h; NaN
//   stays NaN, values beyond the f16 range become inf.
//
// Same dtype is a device copy (CpuBackend::copy). Otherwise threads take contiguous chunks; a
// half-to-half cast goes through L1-sized fp32 blocks (elementwise.h), so
// every cast is one pass over memory.
#include <cstdint>

#include "cpu_backend.h"
#include "elementwise.h"

namespace wpm {

namespace {

template <class S, class D>
void cast_range(const S* src, D* dst, int64_t begin, int64_t end) {
  if constexpr (std::is_same_v<S, float>) {
    from_float(src + begin, dst + begin, end - begin);
  } else if constexpr (std::is_same_v<D, float>) {
    to_float(src + begin, dst + begin, end - begin);
  } else {
    constexpr int64_t kBlock = 1024;
    alignas(64) float block[kBlock];
    for (int64_t i = begin; i < end; i += kBlock) {
      const int64_t len = std::min(kBlock, end - i);
      to_float(src + i, block, len);
      from_float(block, dst + i, len);
    }
  }
}

}  // namespace

wpm_status CpuBackend::cast(const void* src, wpm_dtype src_dtype, void* dst, wpm_dtype dst_dtype, int64_t n) {
  // Same dtype: a device copy (overlapping views keep memmove's order there).
  if (src_dtype == dst_dtype) return copy(dst, src, size_t(n) * wpm_dtype_size(src_dtype));
  return dispatch_float(src_dtype, [&](auto src_tag) {
    return dispatch_float(dst_dtype, [&](auto dst_tag) {
      const auto* s = static_cast<const decltype(src_tag)*>(src);
      auto* d = static_cast<decltype(dst_tag)*>(dst);
      pool_.parallel_for(n, kElementwiseChunk, [&](int64_t begin, int64_t end, int) { cast_range(s, d, begin, end); });
      return WPM_OK;
    });
  });
}

}  // namespace wpm
