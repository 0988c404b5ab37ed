// Counter-based random numbers: element i of a fill with seed s depends only
// on (s, i), so every backend and every thread count gives the same bits.
// The math is plain double arithmetic plus log/cos/sqrt rounded to float.
#pragma once

#include <cmath>
#include <cstdint>

namespace wpm {

inline uint64_t mix64(uint64_t z) {  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline uint64_t random_bits(uint64_t seed, uint64_t index) { return mix64(mix64(seed) + index); }

// Uniform in [low, high).
inline float random_uniform(uint64_t seed, uint64_t index, float low, float high) {
  double u = double(random_bits(seed, index) >> 40) * (1.0 / 16777216.0);
  return float(double(low) + (double(high) - double(low)) * u);
}

// Normal by Box-Muller on two 24-bit uniforms of one 64-bit draw.
inline float random_normal(uint64_t seed, uint64_t index, float mean, float stddev) {
  uint64_t bits = random_bits(seed, index);
  double u1 = double((bits >> 40) + 1) * (1.0 / 16777216.0);  // (0, 1]: log is finite
  double u2 = double((bits >> 8) & 0xffffffu) * (1.0 / 16777216.0);
  double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  return float(double(mean) + double(stddev) * z);
}

}  // namespace wpm
