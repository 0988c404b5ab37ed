#include "caching_allocator.h"

#include <cuda_runtime_api.h>

#include "../error.h"

namespace wpm {

namespace {
constexpr size_t kSmallStep = 512;
constexpr size_t kLargeThreshold = size_t(1) << 20;
constexpr size_t kLargeStep = size_t(2) << 20;
}  // namespace

size_t CachingAllocator::rounded(size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes < kLargeThreshold) return (bytes + kSmallStep - 1) / kSmallStep * kSmallStep;
  return (bytes + kLargeStep - 1) / kLargeStep * kLargeStep;
}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  empty_cache_locked();
  for (auto& [block, size] : live_) cudaFree(block);  // buffers outliving the context: nothing else can free them
}

wpm_status CachingAllocator::alloc(size_t bytes, void** ptr) {
  const size_t size = rounded(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cached_.lower_bound(size);
  if (it != cached_.end() && it->first <= 2 * size) {
    *ptr = it->second;
    live_.emplace(it->second, it->first);
    cached_.erase(it);
    return WPM_OK;
  }
  void* block = nullptr;
  cudaError_t err = cudaMalloc(&block, size);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it, give the cache back, and try once more
    cudaDeviceSynchronize();
    empty_cache_locked();
    err = cudaMalloc(&block, size);
  }
  if (err != cudaSuccess) {
    cudaGetLastError();
    return fail(err == cudaErrorMemoryAllocation ? WPM_ERR_OUT_OF_MEMORY : WPM_ERR_INTERNAL,
                "cuda backend: cudaMalloc of %zu bytes failed: %s", size, cudaGetErrorString(err));
  }
  live_.emplace(block, size);
  *ptr = block;
  return WPM_OK;
}

void CachingAllocator::release(void* ptr) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end()) return;  // not ours: the handle registry makes this unreachable
  cached_.emplace(it->second, ptr);
  live_.erase(it);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() {
  for (auto& [size, block] : cached_) cudaFree(block);
  cached_.clear();
}

size_t CachingAllocator::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t total = 0;
  for (auto& [size, block] : cached_) total += size;
  return total;
}

size_t CachingAllocator::live_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t total = 0;
  for (auto& [block, size] : live_) total += size;
  return total;
}

}  // namespace wpm
