// The emu backend's collectives as stream-ordered device work, the way NCCL's
// run on a CUDA stream: a collective started on emu is queued on the backend's
// stream (Backend::queue_host_work) and does its MPI exchange when the stream
// runs it (at the next drain: a read-back or synchronize), or in every replay
// of a graph that recorded it. So starting one never waits for the device, a
// step's collectives cost no host wait of their own, and a data-parallel step
// can be recorded. Every rank queues the same collectives in the same order, so
// every rank's stream runs them in that order.
//
// While the stream runs the work the device's memory is addressed directly (the
// emulator's device memory is host memory): a QueuedExchange copies a buffer's
// elements into a host copy (widened to f32 for a reduction), the exchange runs
// there on the MPI thread, and the result is copied back, all inside the one
// queued item. The copies are not the backend's read-backs and uploads, which
// would wait for the very stream that is running them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "../handles.h"

namespace wpm::comm {

// A buffer's elements as queued work addresses them: the pointer, count and dtype at the time the collective was
// started (a recorded graph replays with the same ones), not the handle, which the caller may destroy before the
// stream runs the work.
struct DeviceElements {
  void* data = nullptr;
  size_t count = 0;
  wpm_dtype dtype = WPM_F32;

  static DeviceElements of(const wpm_buffer* buffer) { return {buffer->data(), buffer->count, buffer->dtype}; }
};

// A host copy of a buffer's elements, made and stored back while the stream runs the work.
class QueuedExchange {
 public:
  // as_f32: the elements widened to f32 (reductions); else the raw elements (copies).
  QueuedExchange(DeviceElements elements, bool as_f32);
  // Copies the device memory into the host copy.
  void load();
  // Sizes the host copy of an output the exchange writes whole.
  void reserve();
  // Copies the host copy back into the device memory (f16/bf16 rounded from f32).
  void store();
  // After store(): the elements as the buffer now holds them, as f32.
  void copy_stored(float* out) const;
  void* data() { return host_.data(); }
  size_t count() const { return elements_.count; }

 private:
  DeviceElements elements_;
  bool as_f32_;
  std::vector<uint8_t> host_;  // f32 when as_f32_, else the raw elements
};

}  // namespace wpm::comm
