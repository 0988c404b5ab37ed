// CpuBackend construction, memory and fills. The ops live in their own files.
#include "cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "../error.h"
#include "../random.h"
#include "../value_checks.h"
#include "bf16_gemm_path.h"
#include "blas.h"

namespace wpm {

namespace {
int default_threads() {
  if (const char* env = std::getenv("WORLDPM_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0 && n <= 4096) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : int(hw);
}

template <class T, class Value>
void fill_range(ThreadPool& pool, T* dst, size_t count, Value&& value_at) {
  pool.parallel_for(int64_t(count), 1 << 16, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) store(dst, i, value_at(i));
  });
}
}  // namespace

CpuBackend::CpuBackend(int threads)
    : pool_(threads > 0 ? threads : default_threads()) {
  blas_set_threads(pool_.size());
  if (choose_bf16_gemm_path().onednn) bf16_matmul_ = OnednnMatmul::create(pool_.size());
}

CpuBackend::~CpuBackend() = default;

std::unique_ptr<Backend> make_cpu_backend(int num_threads) {
  if (!blas_ready()) return nullptr;  // blas_ready set the message
  return std::make_unique<CpuBackend>(num_threads);
}

wpm_status CpuBackend::alloc(size_t bytes, void** ptr) {
  // 64-byte alignment: a cache line, and what the AVX-512 paths load.
  size_t rounded = (bytes + 63) / 64 * 64;
  *ptr = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (*ptr == nullptr) return fail(WPM_ERR_OUT_OF_MEMORY, "cpu backend: could not allocate %zu bytes", bytes);
  return WPM_OK;
}

void CpuBackend::release(void* ptr) { std::free(ptr); }

wpm_status CpuBackend::write(void* dst, const void* host, size_t bytes) {
  if (bytes) std::memcpy(dst, host, bytes);
  return WPM_OK;
}

wpm_status CpuBackend::read(void* host, const void* src, size_t bytes) {
  if (bytes) std::memcpy(host, src, bytes);
  return WPM_OK;
}

wpm_status CpuBackend::copy(void* dst, const void* src, size_t bytes) {
  const char* from = static_cast<const char*>(src);
  char* to = static_cast<char*>(dst);
  bool overlap = from < to + bytes && to < from + bytes;
  if (overlap) {  // a view copied onto an overlapping view: memmove's order matters
    if (bytes) std::memmove(dst, src, bytes);
    return WPM_OK;
  }
  // Large copies go over the pool: one core cannot saturate the memory system.
  pool_.parallel_for(int64_t(bytes), 1 << 20, [&](int64_t begin, int64_t end, int) {
    std::memcpy(to + begin, from + begin, size_t(end - begin));
  });
  return WPM_OK;
}

wpm_status CpuBackend::checked_lengths(const char* function, const int32_t* lengths, int32_t* safe, int64_t b,
                                       int64_t t) {
  for (int64_t i = 0; i < b; ++i)
    if (lengths[i] < 1 || lengths[i] > t) return fail_attention_length(function, i, lengths[i], t);
  std::memcpy(safe, lengths, size_t(b) * sizeof(int32_t));
  return WPM_OK;
}

wpm_status CpuBackend::checked_offsets(const char* function, const int32_t* cu_seqlens, int32_t* safe, int64_t b,
                                       int64_t t, int64_t max_seqlen) {
  if (wpm_status s = check_offsets(function, cu_seqlens, b, t, max_seqlen)) return s;
  std::memcpy(safe, cu_seqlens, size_t(b + 1) * sizeof(int32_t));
  return WPM_OK;
}

wpm_status CpuBackend::fill(void* dst, wpm_dtype dtype, size_t count, double value) {
  if (dtype == WPM_I32) {
    int32_t v = int32_t(value);
    int32_t* p = static_cast<int32_t*>(dst);
    for (size_t i = 0; i < count; ++i) p[i] = v;
    return WPM_OK;
  }
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    float v = float(value);
    fill_range(pool_, static_cast<T*>(dst), count, [v](int64_t) { return v; });
    return WPM_OK;
  });
}

wpm_status CpuBackend::fill_random(void* dst, wpm_dtype dtype, size_t count, uint64_t seed, bool normal, float a,
                                   float b) {
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    if (normal)
      fill_range(pool_, static_cast<T*>(dst), count, [&](int64_t i) { return random_normal(seed, i, a, b); });
    else
      fill_range(pool_, static_cast<T*>(dst), count, [&](int64_t i) { return random_uniform(seed, i, a, b); });
    return WPM_OK;
  });
}

}  // namespace wpm
