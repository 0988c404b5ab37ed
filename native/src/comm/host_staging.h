// Host copies of buffers for the MPI collectives. On the cpu backend a buffer
// IS host memory and MPI works on it in place; on the emu backend (guarded
// emulator memory) it is copied out and back through the backend. Reductions
// run in f32: f16/bf16 buffers are widened into an f32 copy and narrowed back.
#pragma once

#include <cstdint>
#include <vector>

#include "../handles.h"
#include "outcome.h"

namespace wpm::comm {

// A host view of a buffer's elements in one element type.
class HostStaging {
 public:
  // as_f32: the elements widened to f32 (reductions); else the raw elements (copies).
  HostStaging(wpm_buffer* buffer, bool as_f32);
  // Reads the buffer into the host copy (nothing to do when in place).
  Outcome load();
  // Sizes the host copy of a buffer the collective writes whole (no read).
  void reserve_output();
  // Writes the host copy back into the buffer (nothing to do when in place).
  Outcome store();
  void* data() { return in_place_ ? buffer_->data() : static_cast<void*>(host_.data()); }
  size_t count() const { return buffer_->count; }

 private:
  wpm_buffer* buffer_;
  bool as_f32_, in_place_;
  std::vector<uint8_t> host_;
};

}  // namespace wpm::comm
