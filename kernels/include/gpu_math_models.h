// Models of the CUDA math calls in kernels/*.cu whose GPU result is an
// approximation nvcc builds on the multi-function unit (MUFU): exp2f becomes
// one ex2.approx.f32; expf and erfcf are CUDA library sequences around
// ex2.approx.ftz and rcp.approx.ftz. Each model returns the correctly rounded
// result moved by up to the documented error bound, in units in the last
// place (ulps), so the emulator's hardware-numerics build proves that the
// tests' tolerances absorb that bound
// (docs/numerics.md, "Hardware-numerics emulator build"). The offset is a hash of the argument's bits: the same
// argument always gives the same result, as on a GPU, and about two arguments
// in five get the full bound, one sign or the other.
//
// Host code only: kemu.h maps the calls onto these under
// WORLDPM_EMU_HARDWARE_NUMERICS, and the tests call them directly.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace gpu_math {

// Documented maximum distance from the correctly rounded result, in ulps.
inline constexpr int kExp2fUlps = 2;  // ex2.approx.f32, across the full range, subnormals kept
inline constexpr int kExpfUlps = 2;   // CUDA's expf
inline constexpr int kErfcfUlps = 4;  // CUDA's erfcf

// -ulps..+ulps, a fixed function of the argument's bits and a per-function salt.
inline int ulp_offset(float arg, uint32_t salt, int ulps) {
  uint32_t h = 0;
  std::memcpy(&h, &arg, sizeof h);
  h ^= salt;
  // Two rounds of a multiply-xorshift mix, so neighbouring arguments get unrelated offsets.
  h = (h ^ (h >> 16)) * 0x7feb352du;
  h = (h ^ (h >> 15)) * 0x846ca68bu;
  h ^= h >> 16;
  return int(h % uint32_t(2 * ulps + 1)) - ulps;
}

// `exact` rounded to float, then moved `offset` ulps (toward +infinity when
// positive). A result the float holds exactly (exp2f of an integer, 1 for a
// zero argument) is returned as it is, as are zero, infinite and NaN results;
// a step that would leave the finite range or cross zero stops there.
inline float move_ulps(double exact, int offset) {
  const float rounded = float(exact);
  if (double(rounded) == exact || rounded == 0.0f || !std::isfinite(rounded)) return rounded;
  float r = rounded;
  for (; offset != 0; offset += offset > 0 ? -1 : 1) {
    const float next = std::nextafter(r, offset > 0 ? INFINITY : -INFINITY);
    if (next == 0.0f || !std::isfinite(next)) break;
    r = next;
  }
  return r;
}

inline float exp2f_model(float x) {
  return std::isnan(x) ? x : move_ulps(std::exp2(double(x)), ulp_offset(x, 0x2e5bf271u, kExp2fUlps));
}
inline float expf_model(float x) {
  return std::isnan(x) ? x : move_ulps(std::exp(double(x)), ulp_offset(x, 0x9e3779b9u, kExpfUlps));
}
inline float erfcf_model(float x) {
  return std::isnan(x) ? x : move_ulps(std::erfc(double(x)), ulp_offset(x, 0x85ebca6bu, kErfcfUlps));
}

}  // namespace gpu_math
