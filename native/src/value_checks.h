// Op inputs whose validity the boundary cannot see without reading buffer
// contents (token ids, row indices, sequence lengths, packed offsets): the CPU backend checks
// them in place; the device backends check them in a kernel into the context's
// device error word and report a bad one with these messages at the next
// read-back (device_backend.cpp).
#pragma once

#include <cstdint>

#include "error.h"
#include "packed_offsets.h"

namespace wpm {

// The message for a row index outside 0..rows-1 (token ids: index "ids", rows "vocab"); `found` ends it
// (where a later call reports it).
inline wpm_status fail_row_index(const char* function, const char* index_name, const char* rows_name, int64_t i,
                                 int64_t value, int64_t rows, const char* found = "") {
  return fail_argument(WPM_ERR_INVALID_ARGUMENT, index_name,
                       "%s: argument '%s[%lld]' is %lld; expected 0..%lld (%s %lld)%s", function, index_name,
                       (long long)i, (long long)value, (long long)rows - 1, rows_name, (long long)rows, found);
}

// Every index[i] in 0..rows-1, else WPM_ERR_INVALID_ARGUMENT naming the first bad index and value.
inline wpm_status check_row_index(const char* function, const char* index_name, const char* rows_name,
                                  const int32_t* index, int64_t n, int64_t rows) {
  for (int64_t i = 0; i < n; ++i) {
    if (index[i] < 0 || index[i] >= rows) return fail_row_index(function, index_name, rows_name, i, index[i], rows);
  }
  return WPM_OK;
}

// The message for a length outside 1..t; `found` ends it.
inline wpm_status fail_length(const char* function, int64_t i, int64_t value, int64_t t, const char* found = "") {
  return fail_argument(WPM_ERR_INVALID_ARGUMENT, "lengths", "%s: argument 'lengths[%lld]' is %lld; expected 1..%lld%s",
                       function, (long long)i, (long long)value, (long long)t, found);
}

// Attention's wording of a length outside 1..t, naming the whole argument; `found` ends it.
inline wpm_status fail_attention_length(const char* function, int64_t i, int64_t value, int64_t t,
                                        const char* found = "") {
  return fail_argument(WPM_ERR_INVALID_ARGUMENT, "lengths",
                       "%s: argument 'lengths' has lengths[%lld] = %lld; each must be in 1..%lld (t)%s", function,
                       (long long)i, (long long)value, (long long)t, found);
}

// The message for a packed batch's offsets that break a rule of packed_offsets.h, naming the index, the value
// and the rule (a sequence longer than max_seqlen names 'max_seqlen'); `found` ends it.
inline wpm_status fail_offsets(const char* function, const koffsets_failure& f, const char* found = "") {
  const long long i = (long long)f.index, value = (long long)f.value, other = (long long)f.other;
  switch (f.rule) {
    case koffsets_first_not_zero:
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "cu_seqlens",
                           "%s: argument 'cu_seqlens' has cu_seqlens[0] = %lld; it must be 0%s", function, value, found);
    case koffsets_decreasing:
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "cu_seqlens",
                           "%s: argument 'cu_seqlens' has cu_seqlens[%lld] = %lld below cu_seqlens[%lld] = %lld; the "
                           "offsets must be non-decreasing%s",
                           function, i, value, i - 1, other, found);
    case koffsets_past_t:
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "cu_seqlens",
                           "%s: argument 'cu_seqlens' has cu_seqlens[%lld] = %lld past t (%lld)%s", function, i, value,
                           other, found);
    case koffsets_too_long:
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "max_seqlen",
                           "%s: argument 'max_seqlen' is %lld, but sequence %lld has %lld tokens (cu_seqlens[%lld] - "
                           "cu_seqlens[%lld])%s",
                           function, other, i - 1, value, i, i - 1, found);
    case koffsets_last_not_t:
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "cu_seqlens",
                           "%s: argument 'cu_seqlens' has cu_seqlens[%lld] = %lld; the last offset must be t (%lld), "
                           "the token count%s",
                           function, i, value, other, found);
    default:
      return fail(WPM_ERR_INTERNAL, "%s: an offsets check reported an unknown rule %lld at index %lld", function,
                  (long long)f.rule, i);
  }
}

// The b + 1 offsets under packed_offsets.h's rules, else WPM_ERR_INVALID_ARGUMENT for the first that breaks one.
inline wpm_status check_offsets(const char* function, const int32_t* cu, int64_t b, int64_t t, int64_t max_seqlen) {
  for (int64_t i = 0; i <= b; ++i) {
    const koffsets_rule rule = broken_offset_rule(cu, i, b, t, max_seqlen);
    if (rule != koffsets_ok) return fail_offsets(function, offsets_failure(cu, i, rule, t, max_seqlen));
  }
  return WPM_OK;
}

// Every lengths[i] in 1..t, else WPM_ERR_INVALID_ARGUMENT naming the first bad index and value.
inline wpm_status check_lengths(const char* function, const int32_t* lengths, int64_t b, int64_t t) {
  for (int64_t i = 0; i < b; ++i) {
    if (lengths[i] < 1 || lengths[i] > t) return fail_length(function, i, lengths[i], t);
  }
  return WPM_OK;
}

}  // namespace wpm
