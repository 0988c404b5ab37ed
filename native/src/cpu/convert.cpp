#include "convert.h"

#include <cpuid.h>
#include <immintrin.h>

#include <cstring>

namespace wpm {
namespace {

void widen_f16_scalar(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_float(src[i]);
}

void narrow_f16_scalar(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = float_to_f16(src[i]);
}

__attribute__((target("avx,f16c"))) void widen_f16_f16c(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  widen_f16_scalar(src + i, dst + i, n - i);
}

__attribute__((target("avx,f16c"))) void narrow_f16_f16c(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  narrow_f16_scalar(src + i, dst + i, n - i);
}

using Widen = void (*)(const uint16_t*, float*, int64_t);
using Narrow = void (*)(const float*, uint16_t*, int64_t);

bool has_f16c() {
  __builtin_cpu_init();
  // F16C from cpuid leaf 1 (ECX): clang's __builtin_cpu_supports does not know "f16c".
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __builtin_cpu_supports("avx") && __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

const Widen widen_f16 = has_f16c() ? widen_f16_f16c : widen_f16_scalar;
const Narrow narrow_f16 = has_f16c() ? narrow_f16_f16c : narrow_f16_scalar;

// f16 / bf16 are structs holding one uint16_t: the first member of a
// standard-layout struct, so the arrays can be walked as uint16_t.
const uint16_t* bits(const f16* p) { return &p->bits; }
uint16_t* bits(f16* p) { return &p->bits; }

}  // namespace

void widen(const f16* src, float* dst, int64_t n) { widen_f16(bits(src), dst, n); }
void narrow(const float* src, f16* dst, int64_t n) { narrow_f16(src, bits(dst), n); }

__attribute__((target_clones("avx512f", "avx2", "default"))) void widen(const bf16* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_float(src[i].bits);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void narrow(const float* src, bf16* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i].bits = float_to_bf16(src[i]);
}

}  // namespace wpm
