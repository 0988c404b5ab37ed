// Host copies of buffers for the MPI collectives on the cpu backend. A buffer
// the library allocated IS host memory and MPI works on it in place; memory the
// caller wrapped is copied out and back. Reductions run in f32: f16/bf16
// buffers are widened into an f32 copy and narrowed back. (The emu backend's
// collectives run as stream-ordered work on copies of their own:
// queued_exchange.h.)
//
// A collective that times out leaves its MPI request posted (MPI cannot cancel
// a collective), so MPI may write into that memory whenever the silent rank
// wakes up. The staging of a failed collective is therefore kept until the
// process ends (keep_after_failure), together with the library's storage it
// works in; this is why memory the library does not own is never used in place.
#pragma once

#include <cstdint>
#include <memory>
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
  // The elements as the buffer now holds them, as f32 (f16/bf16 after their rounding); after store().
  void copy_stored(float* out) const;
  // Whether MPI works on the buffer's own memory: there is nothing to read back or write.
  bool in_place() const { return in_place_; }
  void* data() { return in_place_ ? buffer_->data() : static_cast<void*>(host_->data()); }
  size_t count() const { return buffer_->count; }

 private:
  // The read of the buffer's raw elements into raw_ (its bytes are 0 when in place).
  HostRead raw_read();
  // After raw_read's copy has landed: the host copy from the raw elements.
  void take_raw();

  wpm_buffer* buffer_;
  bool as_f32_, in_place_;
  std::shared_ptr<Storage> in_place_storage_;  // the memory MPI works in when in place
  // The host copy (f32 or raw elements) and, for f16/bf16, the raw elements read and stored.
  std::shared_ptr<std::vector<uint8_t>> host_ = std::make_shared<std::vector<uint8_t>>();
  std::shared_ptr<std::vector<uint8_t>> raw_;
};

// n elements of dtype (f32, f16 or bf16) as f32, and back (f16/bf16 rounded to nearest even): the conversions of
// every host copy a collective reduces in (HostStaging, QueuedExchange).
void widen_elements(const void* src, wpm_dtype dtype, float* dst, size_t n);
void narrow_elements(const float* src, wpm_dtype dtype, void* dst, size_t n);

// Keeps the memory of a collective that failed (its request may still be posted; a HostStaging or a
// QueuedExchange)
// alive until the process ends: a leak bounded by the failed collectives, which
// break their communicator for good, instead of MPI writing into freed memory.
void keep_after_failure(std::shared_ptr<const void> staging);

}  // namespace wpm::comm
