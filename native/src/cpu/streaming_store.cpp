#include "streaming_store.h"

#include <emmintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace wpm {

namespace {

constexpr size_t kVector = sizeof(__m128i);

// Bytes from p to its next 16-byte boundary, at most bytes.
size_t head_bytes(const void* p, size_t bytes) {
  return std::min(bytes, (kVector - reinterpret_cast<uintptr_t>(p) % kVector) % kVector);
}

}  // namespace

void stream_zero(void* dst, size_t bytes) {
  char* to = static_cast<char*>(dst);
  const size_t head = head_bytes(to, bytes);
  std::memset(to, 0, head);
  const __m128i zero = _mm_setzero_si128();
  size_t i = head;
  for (; i + kVector <= bytes; i += kVector) _mm_stream_si128(reinterpret_cast<__m128i*>(to + i), zero);
  std::memset(to + i, 0, bytes - i);
  _mm_sfence();
}

void stream_copy(void* dst, const void* src, size_t bytes) {
  char* to = static_cast<char*>(dst);
  const char* from = static_cast<const char*>(src);
  const size_t head = head_bytes(to, bytes);
  std::memcpy(to, from, head);
  size_t i = head;
  for (; i + kVector <= bytes; i += kVector)
    _mm_stream_si128(reinterpret_cast<__m128i*>(to + i), _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + i)));
  std::memcpy(to + i, from + i, bytes - i);
  _mm_sfence();
}

}  // namespace wpm
