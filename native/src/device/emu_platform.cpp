// The emu backend's platform: the kernel emulator (native/emu) as a device.
// Memory is the emulator's guarded, poisoned device memory; copies are
// memcpy/memmove; GEMMs run on a CPU backend's BLAS, which can read emulated
// device memory because it is host memory
// (docs/emulator.md, "GEMMs and device memory": cuBLASLt is not emulated).
//
// Two queue modes, WORLDPM_EMU_QUEUE (read once): `immediate` (the default) runs
// each kernel inside its launch, so there is no stream and synchronize has
// nothing to wait for; `deferred` queues kernels, device copies and GEMMs on an
// EmuStream until the next synchronising call, as a CUDA stream would, so host
// ordering bugs show (emu_stream.h).
//
// A graph capture (in either mode) queues the kernels, device copies, GEMMs and the
// collectives' host work (queue_host_work) on a second EmuStream that is never drained: its queue, taken out, is the graph,
// and a replay runs those operations again in order (queued behind the stream's
// work in deferred mode, at once in immediate mode).
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <vector>

#include "../device_backends.h"
#include "../error.h"
#include "device_backend.h"
#include "device_range.h"
#include "emu.h"
#include "emu_kernel_profile.h"
#include "emu_stream.h"

namespace wpm {

namespace {

// WORLDPM_EMU_QUEUE: true for deferred; false with *error set for a value that is neither mode.
bool parse_queue_mode(const char* text, bool* deferred, std::string* error) {
  const std::string value = text == nullptr ? "" : text;
  *deferred = value == "deferred";
  if (value.empty() || value == "immediate" || value == "deferred") return true;
  *error = "'" + value + "' is not a queue mode (immediate or deferred)";
  return false;
}

// The environment's queue mode, read once per process.
bool deferred_queue() {
  static const bool deferred = [] {
    bool d = false;
    std::string ignored;  // a bad value never gets this far: emu_unavailable_reason refuses it
    parse_queue_mode(std::getenv("WORLDPM_EMU_QUEUE"), &d, &ignored);
    return d;
  }();
  return deferred;
}

// A capture's recording: each kernel launch with its argument values, each device copy and GEMM.
class EmuGraph final : public PlatformGraph {
 public:
  explicit EmuGraph(std::vector<std::function<wpm_status()>> ops) : ops(std::move(ops)) {}
  const std::vector<std::function<wpm_status()>> ops;
};

class EmuPlatform final : public DevicePlatform {
 public:
  EmuPlatform(std::unique_ptr<Backend> cpu, bool deferred)
      : cpu_(std::move(cpu)), stream_(deferred ? std::make_unique<EmuStream>() : nullptr) {}
  ~EmuPlatform() override { drop_capture(); }

  wpm_backend kind() const override { return WPM_BACKEND_EMU; }
  int num_threads() const override { return cpu_->num_threads(); }
  // Null in immediate mode: the launch runs to completion inside klaunch.
  CUstream_st* launch_stream() override {
    if (recording_) return recording_->stream();
    return stream_ ? stream_->stream() : nullptr;
  }

  wpm_status allocate(size_t bytes, void** ptr) override {
    try {
      *ptr = emu::device_alloc(bytes, "wpm_buffer");
    } catch (const std::bad_alloc&) {
      return fail(WPM_ERR_OUT_OF_MEMORY, "emu backend: could not allocate %zu bytes", bytes);
    }
    if (stream_) stream_->track(*ptr, bytes);
    return WPM_OK;
  }
  void free_memory(void* ptr) override {
    if (stream_) stream_->release(ptr);
    else emu::device_free(ptr);
  }
  // As on cuda: a small upload is queued with its own copy of the bytes and returns without waiting; a large
  // one, and every read, waits for the queued work first; an empty copy does nothing.
  wpm_status copy_to_device(void* dst, const void* host, size_t bytes) override {
    if (bytes == 0) return WPM_OK;
    if (bytes > kStagedUploadBytes) {
      if (wpm_status s = synchronize()) return s;
    } else if (stream_) {
      auto staged = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(host),
                                                                 static_cast<const unsigned char*>(host) + bytes);
      stream_->push_op([dst, staged] {
        std::memcpy(dst, staged->data(), staged->size());
        return WPM_OK;
      });
      return WPM_OK;
    }
    std::memcpy(dst, host, bytes);
    return WPM_OK;
  }
  wpm_status copy_to_host(const HostRead* reads, size_t count) override {
    bool any = false;
    for (size_t i = 0; i < count; ++i) any = any || reads[i].bytes != 0;
    if (!any) return WPM_OK;
    if (wpm_status s = synchronize()) return s;
    for (size_t i = 0; i < count; ++i)
      if (reads[i].bytes) std::memcpy(reads[i].host, reads[i].src, reads[i].bytes);
    return WPM_OK;
  }
  wpm_status on_device(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0) return WPM_OK;
    EmuStream* queue = recording_ ? recording_.get() : stream_.get();
    if (!queue) {
      std::memmove(dst, src, bytes);
      return WPM_OK;
    }
    queue->push_op([dst, src, bytes] {
      std::memmove(dst, src, bytes);
      return WPM_OK;
    });
    return WPM_OK;
  }
  // Like a kernel: recorded while capturing, queued in deferred mode, run at once in immediate mode.
  bool queues_host_work() const override { return true; }
  wpm_status queue_host_work(std::function<wpm_status()> op) override {
    EmuStream* queue = recording_ ? recording_.get() : stream_.get();
    if (!queue) return op();
    queue->push_op(std::move(op));
    return WPM_OK;
  }
  wpm_status wait() override {
    count_host_wait();
    return stream_ ? stream_->drain() : WPM_OK;
  }
  // Emulated device memory is host memory too, so "device pointer" means: inside a live
  // allocation of the emulator (a buffer's wpm_buffer_device_pointer, or an offset into it).
  // This is the check that lets the emu backend stand in for cuda's cudaPointerGetAttributes.
  std::string device_memory_problem(const void* ptr, size_t bytes) override {
    if (emu::device_range_live(ptr, bytes)) return "";
    return "it is not inside the emulator's device memory (a host pointer, or a range past the end of an "
           "emulated allocation)";
  }
  // Queued like cuBLASLt's matmul on the stream; a failure then surfaces at the next synchronising call.
  wpm_status run_gemm(const GemmArgs& args) override {
    if (recording_) {  // profiled when a replay runs it
      recording_->push_op([this, args] {
        EmuKernelProfile::record_gemm(args);
        return cpu_->gemm(args);
      });
      return WPM_OK;
    }
    EmuKernelProfile::record_gemm(args);
    if (!stream_) return cpu_->gemm(args);
    stream_->push_op([this, args] { return cpu_->gemm(args); });
    return WPM_OK;
  }

  wpm_status start_capture() override {
    recording_ = std::make_unique<EmuStream>();
    return WPM_OK;
  }
  wpm_status finish_capture(std::unique_ptr<PlatformGraph>* graph) override {
    *graph = std::make_unique<EmuGraph>(recording_->take());
    recording_.reset();
    return WPM_OK;
  }
  void abandon_capture() override {
    recording_->take();  // dropped unrun: the stream's destructor would run what it still holds
    recording_.reset();
  }
  wpm_status launch_graph(const PlatformGraph& graph) override {
    const auto& ops = static_cast<const EmuGraph&>(graph).ops;
    if (stream_) {
      for (const auto& op : ops) stream_->push_op(op);
      return WPM_OK;
    }
    for (const auto& op : ops)
      if (wpm_status s = op()) return s;
    return WPM_OK;
  }

  bool has_kernel_profile() const override { return true; }
  wpm_status kernel_profile_enable(bool on) override {
    if (wpm_status s = synchronize()) return s;  // queued launches count before the switch, not after
    if (!on) {
      profile_.stop();
      return WPM_OK;
    }
    return profile_.start();
  }
  wpm_status kernel_profile(std::vector<wpm_kernel_profile>* rows) override {
    if (wpm_status s = synchronize()) return s;
    *rows = profile_.rows();
    return WPM_OK;
  }

 private:
  EmuKernelProfile profile_;  // declared before stream_, so the stream drains while it still counts
  std::unique_ptr<Backend> cpu_;
  std::unique_ptr<EmuStream> stream_;  // null in immediate mode; destroyed (drained) before cpu_
  std::unique_ptr<EmuStream> recording_;  // while capturing a graph: its recording, never drained
};

}  // namespace

std::string emu_unavailable_reason() {
  emu::Config config;
  const char* schedule = std::getenv("WORLDPM_EMU_SCHEDULE");
  std::string error;
  if (schedule != nullptr && !emu::parse_schedule(schedule, config, &error))
    return "WORLDPM_EMU_SCHEDULE: " + error;
  bool deferred = false;
  if (!parse_queue_mode(std::getenv("WORLDPM_EMU_QUEUE"), &deferred, &error)) return "WORLDPM_EMU_QUEUE: " + error;
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
  return kernels_emu::make_device_backend(std::make_unique<EmuPlatform>(std::move(cpu), deferred_queue()));
}

}  // namespace wpm
