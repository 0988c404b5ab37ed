#include "upload_staging.h"

#include <cstring>

#include "../device/device_platform.h"

namespace wpm {

namespace {
// Slots in the ring: a step's small uploads (ids, lengths, argument tables) fit with room to spare, so
// the ring wraps onto a copy still in flight only when the host runs far ahead of the device.
constexpr size_t kSlots = 16;
}  // namespace

UploadStaging::~UploadStaging() {
  for (Slot& slot : slots_) {
    if (slot.copied != nullptr) cudaEventDestroy(slot.copied);
    if (slot.memory != nullptr) cudaFreeHost(slot.memory);
  }
}

cudaError_t UploadStaging::upload(void* dst, const void* host, size_t bytes, cudaStream_t stream, bool* waited) {
  *waited = false;
  if (slots_.empty()) slots_.resize(kSlots);
  Slot& slot = slots_[next_];
  if (slot.copied == nullptr) {  // first use (or a first use that failed half way): memory, then its event
    if (slot.memory == nullptr)
      if (cudaError_t e = cudaHostAlloc(&slot.memory, kStagedUploadBytes, cudaHostAllocDefault)) return e;
    if (cudaError_t e = cudaEventCreateWithFlags(&slot.copied, cudaEventDisableTiming)) return e;
  } else if (cudaEventQuery(slot.copied) == cudaErrorNotReady) {
    *waited = true;
    if (cudaError_t e = cudaEventSynchronize(slot.copied)) return e;
  }
  std::memcpy(slot.memory, host, bytes);
  if (cudaError_t e = cudaMemcpyAsync(dst, slot.memory, bytes, cudaMemcpyHostToDevice, stream)) return e;
  if (cudaError_t e = cudaEventRecord(slot.copied, stream)) return e;
  next_ = (next_ + 1) % slots_.size();
  return cudaSuccess;
}

}  // namespace wpm
