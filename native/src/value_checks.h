// Op inputs whose validity the boundary cannot see without reading buffer
// contents (token ids, pooling lengths): each backend checks them where it can
// read them, the CPU backend in place, the device backends on a host copy.
#pragma once

#include <cstdint>

#include "error.h"

namespace wpm {

// Every ids[i] in 0..vocab-1, else WPM_ERR_INVALID_ARGUMENT naming the first bad index and value.
inline wpm_status check_ids(const char* function, const int32_t* ids, int64_t n, int64_t vocab) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab)
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "ids",
                           "%s: argument 'ids[%lld]' is %d; expected 0..%lld (vocab %lld)", function, (long long)i, ids[i],
                           (long long)vocab - 1, (long long)vocab);
  }
  return WPM_OK;
}

// Every lengths[i] in 1..t, else WPM_ERR_INVALID_ARGUMENT naming the first bad index and value.
inline wpm_status check_lengths(const char* function, const int32_t* lengths, int64_t b, int64_t t) {
  for (int64_t i = 0; i < b; ++i) {
    if (lengths[i] < 1 || lengths[i] > t)
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "lengths", "%s: argument 'lengths[%lld]' is %d; expected 1..%lld",
                           function, (long long)i, lengths[i], (long long)t);
  }
  return WPM_OK;
}

}  // namespace wpm
