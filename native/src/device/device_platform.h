// What differs between the two device backends, cuda and emu: where memory
// comes from, how bytes move between host and device, which stream kernels
// run on, and who multiplies matrices. Everything else (every op, its kernel
// choice, workspaces, argument tables) is the shared DeviceBackend
// (device_backend.cpp), so the emulator runs exactly the host code a GPU runs.
//
// Pointers handed out by alloc() are device pointers: only kernels, gemm()
// and the copy functions touch them (on emu they happen to be host memory
// with guard bytes, but the backend never relies on that).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "../backend.h"

struct CUstream_st;

namespace wpm {

// Uploads up to this size return without waiting for the stream (staged through pinned memory on cuda,
// queued with a copy of the bytes on emu); larger ones (weights at load time) wait for their copy.
constexpr size_t kStagedUploadBytes = size_t(256) << 10;

// Work recorded by a graph capture (DevicePlatform::capture_end), in the platform's own form: an
// instantiated CUDA graph, or the emulator's list of queued operations.
class PlatformGraph {
 public:
  virtual ~PlatformGraph() = default;
  uint64_t launches = 0;  // kernels and GEMMs one replay runs, for the counters
  uint64_t gemms = 0;
};

class DevicePlatform {
 public:
  virtual ~DevicePlatform() = default;
  virtual wpm_backend kind() const = 0;
  virtual int num_threads() const = 0;
  // The stream every kernel and copy of this context is queued on, in order; called right before
  // each launch, it also makes this platform's device the calling thread's current one. While
  // capturing, launches queued on it are recorded, not run.
  virtual CUstream_st* launch_stream() = 0;

  // Refused while capturing (see capture_begin); release then aborts the capture and still releases.
  wpm_status alloc(size_t bytes, void** ptr) {
    if (capturing_) return refuse_in_capture("an allocation of device memory");
    return allocate(bytes, ptr);
  }
  // Stream-ordered: memory released here may be handed out again only to work
  // queued after the work that used it (a single stream guarantees that).
  void release(void* ptr) {
    if (capturing_) refuse_in_capture("a release of device memory");
    free_memory(ptr);
  }
  // When either returns, the host buffer may be reused (to_device) or holds the bytes (to_host). to_host waits
  // for the stream; to_device waits only above kStagedUploadBytes. No bytes, no copy and no wait.
  wpm_status to_device(void* dst, const void* host, size_t bytes) {
    if (!bytes) return WPM_OK;
    if (capturing_) return refuse_in_capture("an upload from host memory");
    count(h2d_copies_);
    return copy_to_device(dst, host, bytes);
  }
  wpm_status to_host(void* host, const void* src, size_t bytes) {
    const HostRead read{host, src, bytes};
    return to_host(&read, 1);
  }
  // Several copies queued together and one wait for all of them (a read-back and the error word).
  wpm_status to_host(const HostRead* reads, size_t count_of_reads) {
    bool any = false;
    for (size_t i = 0; i < count_of_reads; ++i) any = any || reads[i].bytes != 0;
    if (any && capturing_) return refuse_in_capture("a host read-back");
    for (size_t i = 0; i < count_of_reads; ++i)
      if (reads[i].bytes) count(d2h_copies_);
    return copy_to_host(reads, count_of_reads);
  }
  // Overlapping ranges are allowed (views of one buffer): the result is memmove's. Recorded while capturing.
  virtual wpm_status on_device(void* dst, const void* src, size_t bytes) = 0;
  wpm_status synchronize() {
    if (capturing_) return refuse_in_capture("a host wait (synchronize)");
    return wait();
  }
  // Backend::caller_memory_problem: "" when [ptr, ptr + bytes) is device memory this platform's
  // kernels may address, else why not (a host pointer, another device, outside any allocation).
  virtual std::string device_memory_problem(const void* ptr, size_t bytes) = 0;
  wpm_status gemm(const GemmArgs& args) {
    count(capturing_ ? captured_gemms_ : gemms_);
    return run_gemm(args);
  }

  // Graph capture. Between capture_begin and capture_end the kernels, device-to-device copies and GEMMs
  // queued on this platform are recorded instead of run; replay() queues the recording again, with the
  // same arguments (the same device pointers), after whatever is queued. A replay repeats only device
  // work, so what it could not repeat is refused here, for cuda and emu alike, with a message naming the
  // C ABI call: a host read-back or wait, an upload from host memory (a replay would not copy the host's
  // new bytes: inputs go into fixed device buffers before the graph is launched), and an allocation or
  // release of device memory. A refusal aborts the capture (the recording is dropped, the platform runs
  // eagerly again) and capture_end then says which call aborted it.
  wpm_status capture_begin();
  wpm_status capture_end(std::unique_ptr<PlatformGraph>* graph);
  wpm_status replay(const PlatformGraph& graph);
  bool capturing() const { return capturing_; }

  // Backend::queues_host_work / queue_host_work: host code in stream order (emu only), recorded while capturing.
  virtual bool queues_host_work() const { return false; }
  virtual wpm_status queue_host_work(std::function<wpm_status()> op) { (void)op; return WPM_ERR_UNSUPPORTED; }

  // Backend::has_kernel_profile and its two calls: the emulator's work counters (emu only).
  virtual bool has_kernel_profile() const { return false; }
  virtual wpm_status kernel_profile_enable(bool on) { (void)on; return WPM_ERR_UNSUPPORTED; }
  virtual wpm_status kernel_profile(std::vector<wpm_kernel_profile>* rows) { (void)rows; return WPM_ERR_UNSUPPORTED; }

  // Kernels the backend launched through this platform's stream (klaunch counts them, the backend reports
  // them); while capturing they count toward the recording, whose replays count them.
  void count_launches(uint64_t n) { (capturing_ ? captured_launches_ : launches_).fetch_add(n, std::memory_order_relaxed); }
  // What this platform has done since it was made. Host waits are counted by each platform where
  // it waits, so the count stays true when a copy stops waiting on one of them.
  void counters(wpm_device_counters* c) const {
    c->host_waits = host_waits_.load(std::memory_order_relaxed);
    c->d2h_copies = d2h_copies_.load(std::memory_order_relaxed);
    c->h2d_copies = h2d_copies_.load(std::memory_order_relaxed);
    c->launches = launches_.load(std::memory_order_relaxed);
    c->gemms = gemms_.load(std::memory_order_relaxed);
  }

 protected:
  void count_host_wait() { count(host_waits_); }
  // A platform's destructor ends a capture left open (its context destroyed mid-capture).
  void drop_capture() {
    if (capturing_) abandon_capture();
    capturing_ = false;
  }

 private:
  virtual wpm_status allocate(size_t bytes, void** ptr) = 0;
  virtual void free_memory(void* ptr) = 0;
  virtual wpm_status copy_to_device(void* dst, const void* host, size_t bytes) = 0;
  // Waits once, unless every read is empty.
  virtual wpm_status copy_to_host(const HostRead* reads, size_t count) = 0;
  virtual wpm_status wait() = 0;
  virtual wpm_status run_gemm(const GemmArgs& args) = 0;
  // The platform's side of a capture: start recording, finish it into a graph, drop it (after a
  // refusal), and queue a graph made by finish_capture.
  virtual wpm_status start_capture() = 0;
  virtual wpm_status finish_capture(std::unique_ptr<PlatformGraph>* graph) = 0;
  virtual void abandon_capture() = 0;
  virtual wpm_status launch_graph(const PlatformGraph& graph) = 0;

  // Aborts the capture; the failure names the entry point and `what` it asked for.
  wpm_status refuse_in_capture(const char* what);

  static void count(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
  std::atomic<uint64_t> host_waits_{0}, d2h_copies_{0}, h2d_copies_{0}, launches_{0}, gemms_{0};
  bool capturing_ = false;
  std::atomic<uint64_t> captured_launches_{0}, captured_gemms_{0};
  std::string abort_reason_;  // why the last capture was aborted; "" when it was not
};

}  // namespace wpm
