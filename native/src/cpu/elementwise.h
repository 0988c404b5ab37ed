// Building blocks of the CPU elementwise and row kernels (GELU, SwiGLU,
// RMSNorm, RoPE, embedding, casts).
//
// - exp_fast / sigmoid_fast: no library call and no branch, so a loop that
//   calls them vectorises (GCC vectorises std::exp only under -ffast-math).
// - to_float / from_float: storage <-> fp32 conversions over an array
//   (convert.h: F16C for f16 where the CPU has it), round to nearest even.
// - apply_fp32: runs an fp32 kernel over storage-typed arrays. fp32 arrays go
//   straight to the kernel; f16/bf16 pass through float blocks that stay in L1,
//   so every op is still one pass over memory and only the fp32 kernel needs
//   to be fast.
//
// Functions marked WPM_SIMD_CLONES are compiled three times (AVX-512, AVX2,
// portable) and the loader picks the best one for the CPU (GCC target_clones:
// runtime dispatch without intrinsics). Everything here has internal linkage,
// so each translation unit owns its clones.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "half.h"
#include "convert.h"

#if defined(__clang__)
// clang cannot multiversion templates; only the sanitizer fuzz build (cmake/Fuzz.cmake) compiles with it.
#define WPM_SIMD_CLONES
#else
#define WPM_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

namespace wpm {
namespace {

// Elementwise calls below this many elements stay on the calling thread.
constexpr int64_t kElementwiseChunk = 1 << 14;

// e^x in fp32: x = k ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r
// by its degree-6 Taylor polynomial (relative error < 2e-7), 2^k written into
// the exponent bits. |x| is first clamped to 87.3, so 2^k stays normal and
// e^x saturates at ~8e37 above and ~1e-38 below. The clamp is an unsigned min
// on the magnitude bits: a float compare would become a branch that GCC
// threads into per-case copies of the loop body, which the AVX2 and SSE
// clones then fail to vectorise. The min also maps NaN to a finite value;
// every caller multiplies by its NaN input, so a NaN still comes out.
inline float exp_fast(float x) {
  const uint32_t bits = float_to_bits(x);
  x = bits_to_float((bits & 0x80000000u) | std::min(bits & 0x7fffffffu, 0x42ae999au));  // 87.3f
  // Round x log2(e) to an integer: adding 1.5 * 2^23 pushes the fraction out.
  const float kf = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - kf * 0.693359375f) + kf * 2.12194440e-4f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p * bits_to_float(uint32_t(int32_t(kf) + 127) << 23);
}

// 1 / (1 + e^-x); relative error ~2e-7 everywhere, including the far tails.
inline float sigmoid_fast(float x) { return 1.0f / (1.0f + exp_fast(-x)); }

template <class T>
void to_float(const T* src, float* dst, int64_t n) {
  widen(src, dst, n);
}

template <class T>
void from_float(const float* src, T* dst, int64_t n) {
  narrow(src, dst, n);
}

// Runs kernel(in, out, len) over elements [begin, end) of the NIn inputs and
// NOut outputs; in and out are std::arrays of fp32 pointers. Outputs may alias
// inputs (same element for same element): a block is read before it is written.
template <class T, size_t NIn, size_t NOut, class Kernel>
void apply_fp32(const std::array<const T*, NIn>& in, const std::array<T*, NOut>& out, int64_t begin, int64_t end,
                Kernel&& kernel) {
  std::array<const float*, NIn> fin;
  std::array<float*, NOut> fout;
  if constexpr (std::is_same_v<T, float>) {
    for (size_t k = 0; k < NIn; ++k) fin[k] = in[k] + begin;
    for (size_t k = 0; k < NOut; ++k) fout[k] = out[k] + begin;
    kernel(fin, fout, end - begin);
  } else {
    constexpr int64_t kBlock = 512;  // (NIn + NOut) * 2 KiB of stack: stays in L1
    alignas(64) float block[NIn + NOut][kBlock];
    for (size_t k = 0; k < NIn; ++k) fin[k] = block[k];
    for (size_t k = 0; k < NOut; ++k) fout[k] = block[NIn + k];
    for (int64_t i = begin; i < end; i += kBlock) {
      const int64_t len = std::min(kBlock, end - i);
      for (size_t k = 0; k < NIn; ++k) to_float(in[k] + i, block[k], len);
      kernel(fin, fout, len);
      for (size_t k = 0; k < NOut; ++k) from_float(fout[k], out[k] + i, len);
    }
  }
}

}  // namespace
}  // namespace wpm
