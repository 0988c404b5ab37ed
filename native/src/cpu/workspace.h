// Host memory an op borrows for one call and the backend keeps between calls.
//
// Why: the CPU attention copies K, V (and f16/bf16 inputs) into layouts its
// tiles read; allocating those megabytes per call made the kernel zero fresh
// pages, and the page faults took 5% of the forward. A lease hands out the
// same buffers again on the next call (grown when a call needs more), so the
// memory is touched once per context. It is held until the backend goes away:
// at most the largest call's copies.
//
// One lease at a time per backend: a second caller waits for the first to
// finish, as it would for the thread pool anyway.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace wpm {

class Workspace {
 public:
  class Lease {
   public:
    // The lease's next buffer, at least n floats; its contents are whatever the last call left there.
    float* floats(size_t n) {
      if (next_ == workspace_.buffers_.size()) workspace_.buffers_.emplace_back();
      Buffer& buffer = workspace_.buffers_[next_++];
      if (buffer.size < n) {
        buffer.data.reset();  // give the old memory back before taking more
        buffer.data.reset(new float[n]);
        buffer.size = n;
      }
      return buffer.data.get();
    }

   private:
    friend class Workspace;
    explicit Lease(Workspace& workspace) : workspace_(workspace), lock_(workspace.mutex_) {}
    Workspace& workspace_;
    std::unique_lock<std::mutex> lock_;
    size_t next_ = 0;
  };

  Lease lease() { return Lease(*this); }

 private:
  struct Buffer {
    std::unique_ptr<float[]> data;
    size_t size = 0;
  };
  std::mutex mutex_;
  std::vector<Buffer> buffers_;
};

}  // namespace wpm
