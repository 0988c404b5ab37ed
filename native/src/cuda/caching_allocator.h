// Device memory for one CUDA context: cudaMalloc is slow and synchronising,
// so freed blocks are kept and handed out again. All work of a context runs on
// its one stream, so a block released after the ops that used it were queued
// can be reused by any op queued later without waiting (stream order).
//
// Sizes are rounded up (512 B below 1 MiB, then 2 MiB steps) so a few block
// sizes serve many requests; a cached block is reused for a request of at least
// half its size, so at most half of a block is wasted. When cudaMalloc runs
// out of memory the cache is returned to the driver and the allocation tried once more.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

#include "worldpm.h"

namespace wpm {

class CachingAllocator {
 public:
  CachingAllocator() = default;
  ~CachingAllocator();  // the caller has synchronised the device; every block goes back to the driver
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  wpm_status alloc(size_t bytes, void** ptr);
  void release(void* ptr);
  // Returns every cached (not live) block to the driver.
  void empty_cache();

  size_t cached_bytes() const;
  size_t live_bytes() const;

 private:
  static size_t rounded(size_t bytes);

  mutable std::mutex mutex_;
  std::multimap<size_t, void*> cached_;        // size -> free block
  std::unordered_map<void*, size_t> live_;     // block -> size
  void empty_cache_locked();
};

}  // namespace wpm
