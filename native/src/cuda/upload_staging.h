// Pinned host memory that small uploads go through, so an upload returns without waiting for the
// stream: the caller's bytes are copied into a slot on the host, the device copy is queued from the
// slot, and an event recorded after it says when the slot may be written again. From pageable memory
// cudaMemcpyAsync may wait for the stream, and from the caller's own pinned memory it would read the
// bytes after the call returned; from a slot it does neither.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <vector>

namespace wpm {

class UploadStaging {
 public:
  UploadStaging() = default;
  UploadStaging(const UploadStaging&) = delete;
  UploadStaging& operator=(const UploadStaging&) = delete;
  // The stream must have finished the copies (the platform synchronizes it before this runs).
  ~UploadStaging();

  // Queues the copy of `bytes` (at most kStagedUploadBytes) from `host` to `dst` on `stream`. `waited` is
  // set when every slot was still in flight and the oldest had to finish first.
  cudaError_t upload(void* dst, const void* host, size_t bytes, cudaStream_t stream, bool* waited);

 private:
  struct Slot {
    void* memory = nullptr;
    cudaEvent_t copied = nullptr;  // recorded after the slot's last copy; null before its first
  };
  std::vector<Slot> slots_;
  size_t next_ = 0;
};

}  // namespace wpm
