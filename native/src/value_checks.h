// Op inputs whose validity the boundary cannot see without reading buffer
// contents (token ids, row indices, sequence lengths): the CPU backend checks
// them in place; the device backends check them in a kernel into the context's
// device error word and report a bad one with these messages at the next
// read-back (device_backend.cpp).
#pragma once

#include <cstdint>

#include "error.h"

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

// Every lengths[i] in 1..t, else WPM_ERR_INVALID_ARGUMENT naming the first bad index and value.
inline wpm_status check_lengths(const char* function, const int32_t* lengths, int64_t b, int64_t t) {
  for (int64_t i = 0; i < b; ++i) {
    if (lengths[i] < 1 || lengths[i] > t) return fail_length(function, i, lengths[i], t);
  }
  return WPM_OK;
}

}  // namespace wpm
