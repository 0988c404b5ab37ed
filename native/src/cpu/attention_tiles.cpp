// The per-element work of the CPU attention (attention.cpp) on score tiles:
// the online-softmax step of the forward, the recomputed probabilities and
// dS = P (dP - delta) of the backward, and a dot product for delta.
//
// Written with GCC/Clang vector types (16 floats: one zmm register, two ymm
// or four xmm ones on older CPUs) and compiled for AVX-512, AVX2 and baseline
// x86-64, picked at load time (target_clones). Plain loops did not vectorise
// here: the running max and the lane folds came out as scalar code, and the
// softmax step took 23% of the forward; exp2 alone ran at 0.48 ns per element
// as AVX-512 against 2.9 ns for the baseline (SSE2) build. One call per tile,
// so the ifunc call costs nothing.
#include "attention_tiles.h"

#include <algorithm>
#include <cstring>
#include <limits>

// The helpers below return 64-byte vectors (and take them by reference); they
// are always inlined, so GCC's warning that such a return changes the ABI
// without AVX-512 is moot.
#pragma GCC diagnostic ignored "-Wpsabi"

// GCC only: clang 14 accepts target_clones but compiles just one version, for its first ISA (AVX-512 here),
// which then dies with SIGILL on an AVX2 host; a clang build gets one version for its own flags.
#if defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
#define WPM_TILE_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define WPM_TILE_KERNEL
#endif
#define WPM_INLINE inline __attribute__((always_inline))

namespace wpm {
namespace attention_tiles {

namespace {

// 16 lanes; a build may set WPM_ATTENTION_TILE_LANES to 8 (clang refuses 64-byte vector returns where the
// compiled-for ISA lacks AVX-512, even in always-inlined helpers: the fuzz build, cmake/Fuzz.cmake, is made with
// clang on hosts of either kind). The lane count changes the folds' order, so such a build's sums differ in the
// last bits from the library's.
#ifndef WPM_ATTENTION_TILE_LANES
#define WPM_ATTENTION_TILE_LANES 16
#endif
constexpr int kLanes = WPM_ATTENTION_TILE_LANES;
static_assert(kLanes == 16 || kLanes == 8, "WPM_ATTENTION_TILE_LANES must be 16 or 8");
typedef float Vec __attribute__((vector_size(kLanes * 4)));
typedef int32_t IVec __attribute__((vector_size(kLanes * 4)));
typedef float Half __attribute__((vector_size(kLanes * 2)));

WPM_INLINE Vec splat(float x) { return Vec{} + x; }
WPM_INLINE Vec load_vec(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// The first count (< kLanes) elements of p; the other lanes hold fill.
WPM_INLINE Vec load_partial(const float* p, int64_t count, float fill) {
  float lanes[kLanes];
  for (int j = 0; j < kLanes; ++j) lanes[j] = j < count ? p[j] : fill;
  return load_vec(lanes);
}
WPM_INLINE void store_vec(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }
WPM_INLINE void store_partial(float* p, int64_t count, const Vec& v) {
  float lanes[kLanes];
  store_vec(lanes, v);
  for (int64_t j = 0; j < count; ++j) p[j] = lanes[j];
}
WPM_INLINE Vec max_vec(const Vec& a, const Vec& b) { return a > b ? a : b; }

// Folds the lanes with op: halves (16 lanes: then quarters), then a pair of
// pairs. A fixed order, so sums are deterministic.
template <class Op>
WPM_INLINE float fold(const Vec& v, Op op) {
  Half lo, hi;
  std::memcpy(&lo, &v, sizeof lo);
  std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
  Half h = op(lo, hi);
  float q[4];
  if constexpr (kLanes == 16) {
    typedef float Quarter __attribute__((vector_size(16)));
    Quarter a, b;
    std::memcpy(&a, &h, sizeof a);
    std::memcpy(&b, reinterpret_cast<const char*>(&h) + sizeof a, sizeof b);
    const Quarter folded = op(a, b);
    std::memcpy(q, &folded, sizeof q);
  } else {
    std::memcpy(q, &h, sizeof q);
  }
  return op(op(q[0], q[1]), op(q[2], q[3]));
}
WPM_INLINE float fold_sum(const Vec& v) {
  return fold(v, [](const auto& x, const auto& y) { return x + y; });
}
WPM_INLINE float fold_max(const Vec& v) {
  return fold(v, [](const auto& x, const auto& y) { return x > y ? x : y; });
}

// 2^x, for the x <= 0 of a softmax (clamped to [-125, 125] so the bit trick
// below stays a normal float). x = n + f with n = round(x), |f| <= 1/2; 2^f by
// its degree-6 Taylor polynomial (relative error < 2e-7); n goes into the
// exponent bits.
WPM_INLINE Vec exp2_vec(const Vec& in) {
  Vec x = max_vec(in, splat(-125.0f));
  x = x < 125.0f ? x : splat(125.0f);
  Vec n = (x + 12582912.0f) - 12582912.0f;  // round to nearest: 1.5 * 2^23 pushes the fraction out
  Vec f = x - n;
  Vec p = splat(1.5403530393381608e-4f);
  p = p * f + 1.3333558146428443e-3f;
  p = p * f + 9.6181291076284772e-3f;
  p = p * f + 5.5504108664821580e-2f;
  p = p * f + 2.4022650695910071e-1f;
  p = p * f + 6.9314718055994531e-1f;
  p = p * f + 1.0f;
  IVec bits;
  std::memcpy(&bits, &p, sizeof p);
  bits += __builtin_convertvector(n, IVec) << 23;
  std::memcpy(&p, &bits, sizeof p);
  return p;
}

WPM_INLINE float exp2_scalar(float x) { return exp2_vec(splat(x))[0]; }

WPM_INLINE float row_max(const float* x, int64_t n) {
  const float lowest = -std::numeric_limits<float>::infinity();
  Vec m = splat(lowest);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) m = max_vec(m, load_vec(x + i));
  if (i < n) m = max_vec(m, load_partial(x + i, n - i, lowest));
  return fold_max(m);
}

// x[c] = exp2(x[c] - shift) for c < valid, 0 for valid <= c < n (masked); returns the sum.
WPM_INLINE float exp2_row(float* x, int64_t valid, int64_t n, float shift) {
  Vec sum{};
  int64_t c = 0;
  for (; c + kLanes <= valid; c += kLanes) {
    Vec e = exp2_vec(load_vec(x + c) - shift);
    store_vec(x + c, e);
    sum += e;
  }
  if (c < valid) {
    store_partial(x + c, valid - c, exp2_vec(load_partial(x + c, valid - c, 0.0f) - shift));
    sum += load_partial(x + c, valid - c, 0.0f);
    c = valid;
  }
  for (; c < n; ++c) x[c] = 0.0f;
  return fold_sum(sum);
}

}  // namespace

// On the first tile m = -inf: corr is 2^-125 and scales the zeros of o and l.
WPM_TILE_KERNEL void softmax_tile(float* s, int64_t rows, int64_t n, int64_t diag, float* m, float* l, float* o,
                                  int64_t d) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * n;
    int64_t valid = std::clamp<int64_t>(diag + r, 0, n);
    if (valid == 0) {
      std::fill(row, row + n, 0.0f);
      continue;
    }
    float mx = std::max(m[r], row_max(row, valid));
    float corr = exp2_scalar(m[r] - mx);
    l[r] = l[r] * corr + exp2_row(row, valid, n, mx);
    m[r] = mx;
    if (corr != 1.0f)
      for (int64_t c = 0; c < d; ++c) o[r * d + c] *= corr;
  }
}

WPM_TILE_KERNEL void probabilities_tile(float* s, int64_t rows, int64_t n, int64_t diag, const float* lse) {
  for (int64_t r = 0; r < rows; ++r) exp2_row(s + r * n, std::min(diag + r, n), n, lse[r] * kLog2e);
}

WPM_TILE_KERNEL void softmax_grad_tile(float* p, const float* dp, int64_t rows, int64_t n, int64_t diag,
                                       const float* delta) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t valid = std::min(diag + r, n);
    for (int64_t c = 0; c < valid; ++c) p[r * n + c] *= dp[r * n + c] - delta[r];
  }
}

WPM_TILE_KERNEL float dot(const float* x, const float* y, int64_t n) {
  Vec sum{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) sum += load_vec(x + i) * load_vec(y + i);
  if (i < n) sum += load_partial(x + i, n - i, 0.0f) * load_partial(y + i, n - i, 0.0f);
  return fold_sum(sum);
}

}  // namespace attention_tiles
}  // namespace wpm
