// fp16 / bf16 storage as bit containers with round-to-nearest-even conversions.
// Arithmetic is always done in float; these are the only conversions used: by
// the CPU backend, the emulator's runtime and the kernels compiled as C++
// (kemu.h), hence common/include.
#pragma once

#include <cstdint>
#include <cstring>

namespace wpm {

struct f16 { uint16_t bits; };
struct bf16 { uint16_t bits; };

inline float bits_to_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t float_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

inline float bf16_to_float(uint16_t h) { return bits_to_float(uint32_t(h) << 16); }

inline uint16_t float_to_bf16(float f) {
  uint32_t u = float_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // NaN stays NaN (quiet)
  u += 0x7fffu + ((u >> 16) & 1u);                                          // round to nearest even
  return uint16_t(u >> 16);
}

inline float f16_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) return bits_to_float(sign | 0x7f800000u | (man << 13));  // inf / NaN
  if (exp == 0) {
    if (man == 0) return bits_to_float(sign);
    // subnormal: value = man * 2^-24
    float f = float(man) * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  return bits_to_float(sign | ((exp + 112u) << 23) | (man << 13));
}

inline uint16_t float_to_f16(float f) {
  uint32_t u = float_to_bits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (a < 0x38800000u) {                                  // below the smallest normal (2^-14)
    // subnormal or zero: round a * 2^24 to an integer, nearest even.
    float scaled = bits_to_float(a) * 16777216.0f;        // exact: power-of-two scale
    uint32_t r = uint32_t(scaled);
    float rest = scaled - float(r);
    if (rest > 0.5f || (rest == 0.5f && (r & 1u))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t rounded = a + 0xfffu + ((a >> 13) & 1u);
  return uint16_t(sign | (((rounded >> 13) - (112u << 10)) & 0x7fffu));
}

// Generic load/store so kernels can be written once as templates over storage type.
template <class T> inline float load(const T* p, int64_t i);
template <> inline float load<float>(const float* p, int64_t i) { return p[i]; }
template <> inline float load<f16>(const f16* p, int64_t i) { return f16_to_float(p[i].bits); }
template <> inline float load<bf16>(const bf16* p, int64_t i) { return bf16_to_float(p[i].bits); }

template <class T> inline void store(T* p, int64_t i, float v);
template <> inline void store<float>(float* p, int64_t i, float v) { p[i] = v; }
template <> inline void store<f16>(f16* p, int64_t i, float v) { p[i].bits = float_to_f16(v); }
template <> inline void store<bf16>(bf16* p, int64_t i, float v) { p[i].bits = float_to_bf16(v); }

}  // namespace wpm
