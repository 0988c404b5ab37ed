// The emu backend's platform: the kernel emulator (native/emu) as a device.
// Memory is the emulator's guarded, poisoned device memory; copies are
// memcpy/memmove; kernels run synchronously inside their launch (so there is
// no stream and synchronize has nothing to wait for); GEMMs run on a CPU
// backend's BLAS, which can read emulated device memory because it is host
// memory (docs/emulator.md, "GEMMs and device memory": cuBLASLt is not emulated).
#include <cstdlib>
#include <cstring>
#include <new>

#include "../device_backends.h"
#include "../error.h"
#include "device_backend.h"
#include "emu.h"
#include "device_range.h"

namespace wpm {

namespace {

class EmuPlatform final : public DevicePlatform {
 public:
  explicit EmuPlatform(std::unique_ptr<Backend> cpu) : cpu_(std::move(cpu)) {}

  wpm_backend kind() const override { return WPM_BACKEND_EMU; }
  int num_threads() const override { return cpu_->num_threads(); }
  CUstream_st* launch_stream() override { return nullptr; }  // launches run to completion

  wpm_status alloc(size_t bytes, void** ptr) override {
    try {
      *ptr = emu::device_alloc(bytes, "wpm_buffer");
    } catch (const std::bad_alloc&) {
      return fail(WPM_ERR_OUT_OF_MEMORY, "emu backend: could not allocate %zu bytes", bytes);
    }
    return WPM_OK;
  }
  void release(void* ptr) override { emu::device_free(ptr); }
  wpm_status to_device(void* dst, const void* host, size_t bytes) override {
    if (bytes) std::memcpy(dst, host, bytes);
    return WPM_OK;
  }
  wpm_status to_host(void* host, const void* src, size_t bytes) override {
    if (bytes) std::memcpy(host, src, bytes);
    return WPM_OK;
  }
  wpm_status on_device(void* dst, const void* src, size_t bytes) override {
    if (bytes) std::memmove(dst, src, bytes);
    return WPM_OK;
  }
  wpm_status synchronize() override { return WPM_OK; }
  // Emulated device memory is host memory too, so "device pointer" means: inside a live
  // allocation of the emulator (a buffer's wpm_buffer_device_pointer, or an offset into it).
  // This is the check that lets the emu backend stand in for cuda's cudaPointerGetAttributes.
  std::string device_memory_problem(const void* ptr, size_t bytes) override {
    if (emu::device_range_live(ptr, bytes)) return "";
    return "it is not inside the emulator's device memory (a host pointer, or a range past the end of an "
           "emulated allocation)";
  }
  wpm_status gemm(const GemmArgs& args) override { return cpu_->gemm(args); }

 private:
  std::unique_ptr<Backend> cpu_;
};

}  // namespace

std::string emu_unavailable_reason() {
  emu::Config config;
  const char* schedule = std::getenv("WORLDPM_EMU_SCHEDULE");
  std::string error;
  if (schedule != nullptr && !emu::parse_schedule(schedule, config, &error))
    return "WORLDPM_EMU_SCHEDULE: " + error;
  const char* mma = std::getenv("WORLDPM_EMU_MMA");
  if (mma != nullptr && !emu::parse_mma_accumulate(mma, config, &error)) return "WORLDPM_EMU_MMA: " + error;
  return "";
}

std::unique_ptr<Backend> make_emu_backend(int threads) {
  const std::string reason = emu_unavailable_reason();
  if (!reason.empty()) {
    fail(WPM_ERR_BACKEND_UNAVAILABLE, "emu backend: %s", reason.c_str());
    return nullptr;
  }
  std::unique_ptr<Backend> cpu = make_cpu_backend(threads);
  if (!cpu) return nullptr;  // make_cpu_backend set the message
  return kernels_emu::make_device_backend(std::make_unique<EmuPlatform>(std::move(cpu)));
}

}  // namespace wpm
