// The one conversion between the C ABI's element types (wpm_dtype) and the
// kernels' (kdtype, kernels.h). kdtype names only the float types: the kernels
// take token ids, lengths and positions as int32_t pointers, never by dtype.
#pragma once

#include "kernels.h"
#include "worldpm.h"

namespace wpm {

// The kernels' name for a float dtype. The boundary lets only f32, f16 and bf16 reach a
// float op, so WPM_I32 never arrives here; it maps to f32 rather than to an invalid value.
constexpr kdtype to_kdtype(wpm_dtype dtype) {
  switch (dtype) {
    case WPM_F16: return kdtype::f16;
    case WPM_BF16: return kdtype::bf16;
    case WPM_F32:
    case WPM_I32: break;
  }
  return kdtype::f32;
}

// The way back, for every kdtype.
constexpr wpm_dtype to_wpm_dtype(kdtype dtype) {
  switch (dtype) {
    case kdtype::f16: return WPM_F16;
    case kdtype::bf16: return WPM_BF16;
    case kdtype::f32: break;
  }
  return WPM_F32;
}

}  // namespace wpm
