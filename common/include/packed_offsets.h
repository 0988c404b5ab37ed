// The rules a packed attention batch's offsets (cu_seqlens i32 [b + 1]) obey, in one place for the device
// check (kernels/value_check.cu) and the CPU backend's: 0 first, non-decreasing, none past t, no sequence
// longer than max_seqlen, t last. Both report the first index that breaks one, and there its first rule,
// so that a bad batch gets the same message on every backend.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define WPM_OFFSETS_FN __host__ __device__ __forceinline__
#else
#define WPM_OFFSETS_FN inline
#endif

// The rules in the order they are tested at one index, with the second number a message names ("other").
enum koffsets_rule : int64_t {
  koffsets_ok = 0,
  koffsets_first_not_zero,  // cu_seqlens[0] != 0; other 0
  koffsets_decreasing,      // cu_seqlens[i] < cu_seqlens[i - 1]; other cu_seqlens[i - 1]
  koffsets_past_t,          // cu_seqlens[i] > t; other t
  koffsets_too_long,        // cu_seqlens[i] - cu_seqlens[i - 1] > max_seqlen; value the length, other max_seqlen
  koffsets_last_not_t,      // cu_seqlens[b] != t; other t
};

// What broke: the index, its rule, and the two numbers the message names.
struct koffsets_failure {
  int64_t index, rule, value, other;
};

// The first rule offset i of b + 1 breaks (koffsets_ok: none).
WPM_OFFSETS_FN koffsets_rule broken_offset_rule(const int32_t* cu, int64_t i, int64_t b, int64_t t,
                                                int64_t max_seqlen) {
  const int32_t v = cu[i];
  if (i == 0) return v != 0 ? koffsets_first_not_zero : koffsets_ok;
  const int32_t previous = cu[i - 1];
  if (v < previous) return koffsets_decreasing;
  if (v > t) return koffsets_past_t;
  if (int64_t(v) - previous > max_seqlen) return koffsets_too_long;
  if (i == b && v != t) return koffsets_last_not_t;
  return koffsets_ok;
}

// The failure of offset i under `rule` (not koffsets_ok), with the numbers its message names.
WPM_OFFSETS_FN koffsets_failure offsets_failure(const int32_t* cu, int64_t i, koffsets_rule rule, int64_t t,
                                                int64_t max_seqlen) {
  const int64_t previous = i > 0 ? cu[i - 1] : 0;
  koffsets_failure f{i, rule, cu[i], 0};
  if (rule == koffsets_decreasing) f.other = previous;
  if (rule == koffsets_past_t || rule == koffsets_last_not_t) f.other = t;
  if (rule == koffsets_too_long) {
    f.value = int64_t(cu[i]) - previous;
    f.other = max_seqlen;
  }
  return f;
}
