// The cuda backend's platform: one device, one stream that every kernel, copy
// and GEMM of the context is queued on (a non-blocking stream of its own, or the
// caller's from wpm_context_options.stream, which it never destroys), a caching allocator, and
// a cuBLASLt handle with its workspace. Kernels come from nvcc's build of
// kernels/*.cu (namespace kernels_cuda) through the shared DeviceBackend.
//
// The host buffer of a copy may be gone as soon as the call returns: reads wait
// for the stream; small uploads go through pinned staging (upload_staging.h) and
// do not wait, larger ones do. Kernel errors surface at the next synchronising
// call (a read, synchronize), as CUDA reports them.
//
// A graph capture is a stream capture of that stream in thread-local mode (only
// this thread's calls are affected); DevicePlatform refuses what a capture may not
// contain before any CUDA call is made, so the stream never sees an illegal one.
#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "../device/device_backend.h"
#include "../device_backends.h"
#include "../error.h"
#include "caching_allocator.h"
#include "device.h"
#include "cublaslt.h"
#include "upload_staging.h"

namespace wpm {

namespace {

wpm_status cuda_failed(cudaError_t err, const char* what) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  return fail(err == cudaErrorMemoryAllocation ? WPM_ERR_OUT_OF_MEMORY : WPM_ERR_INTERNAL, "cuda backend: %s: %s", what,
              cudaGetErrorString(err));
}

#define WPM_CUDA_CHECK(call, what)                           \
  do {                                                       \
    const cudaError_t wpm_cuda_err = (call);                 \
    if (wpm_cuda_err != cudaSuccess) return cuda_failed(wpm_cuda_err, what); \
  } while (0)

// An instantiated graph of one stream capture, launched on the platform's stream.
class CudaGraph final : public PlatformGraph {
 public:
  CudaGraph(int device, cudaGraphExec_t exec) : device(device), exec(exec) {}
  // An executable graph still running is freed when it completes (cudaGraphExecDestroy).
  ~CudaGraph() override {
    cudaSetDevice(device);
    cudaGraphExecDestroy(exec);
  }
  const int device;
  const cudaGraphExec_t exec;
};

class CudaPlatform final : public DevicePlatform {
 public:
  ~CudaPlatform() override {
    if (stream_ != nullptr) {
      cudaSetDevice(device_);
      drop_capture();
      cudaStreamSynchronize(stream_);
      cublas_.reset();
      if (workspace_ != nullptr) allocator_.release(workspace_);
      if (owns_stream_) cudaStreamDestroy(stream_);
    }
  }

  // stream: the caller's stream to queue everything on, or null for one of our own.
  wpm_status start(int device, cudaStream_t stream) {
    device_ = device;
    std::string reason;
    const int count = cuda_device_count(&reason);
    if (count == 0)  // the same words as wpm_backend_query's reason
      return fail(WPM_ERR_BACKEND_UNAVAILABLE, "backend 'cuda' is not available: built, %s", reason.c_str());
    if (device >= count)
      return fail(WPM_ERR_BACKEND_UNAVAILABLE, "cuda backend: device %d does not exist (%d visible)", device, count);
    WPM_CUDA_CHECK(cudaSetDevice(device), "cudaSetDevice");
    if (stream != nullptr) {
      stream_ = stream;  // the caller's: it outlives the context and its buffers (worldpm.h)
      owns_stream_ = false;
    } else {
      WPM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    }
    std::string error;
    const CublasLtApi* api = CublasLtApi::load(&error);
    if (api == nullptr) return fail(WPM_ERR_BACKEND_UNAVAILABLE, "cuda backend: %s", error.c_str());
    cublasLtHandle_t handle = nullptr;
    if (api->create(&handle) != CUBLAS_STATUS_SUCCESS)
      return fail(WPM_ERR_BACKEND_UNAVAILABLE, "cuda backend: cublasLtCreate failed");
    if (wpm_status s = allocator_.alloc(Cublas::kWorkspaceBytes, &workspace_)) {
      api->destroy(handle);
      return s;
    }
    cublas_ = std::make_unique<Cublas>(*api, handle, workspace_, Cublas::kWorkspaceBytes);
    return WPM_OK;
  }

  wpm_backend kind() const override { return WPM_BACKEND_CUDA; }
  int num_threads() const override { return 1; }
  CUstream_st* launch_stream() override {
    cudaSetDevice(device_);
    return stream_;
  }

  wpm_status allocate(size_t bytes, void** ptr) override {
    cudaSetDevice(device_);
    return allocator_.alloc(bytes, ptr);
  }
  void free_memory(void* ptr) override { allocator_.release(ptr); }

  wpm_status copy_to_device(void* dst, const void* host, size_t bytes) override {
    if (bytes == 0) return WPM_OK;
    cudaSetDevice(device_);
    if (bytes <= kStagedUploadBytes) {
      bool waited = false;
      const cudaError_t staged = staging_.upload(dst, host, bytes, stream_, &waited);
      if (waited) count_host_wait();
      if (staged != cudaSuccess) return cuda_failed(staged, "copy to device");
      return WPM_OK;
    }
    WPM_CUDA_CHECK(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, stream_), "copy to device");
    count_host_wait();
    WPM_CUDA_CHECK(cudaStreamSynchronize(stream_), "copy to device");
    return WPM_OK;
  }
  wpm_status copy_to_host(const HostRead* reads, size_t count) override {
    bool any = false;
    for (size_t i = 0; i < count; ++i) any = any || reads[i].bytes != 0;
    if (!any) return WPM_OK;
    cudaSetDevice(device_);
    for (size_t i = 0; i < count; ++i)
      if (reads[i].bytes)
        WPM_CUDA_CHECK(cudaMemcpyAsync(reads[i].host, reads[i].src, reads[i].bytes, cudaMemcpyDeviceToHost, stream_),
                       "copy to host");
    count_host_wait();
    WPM_CUDA_CHECK(cudaStreamSynchronize(stream_), "copy to host");
    return WPM_OK;
  }
  wpm_status on_device(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0 || dst == src) return WPM_OK;
    cudaSetDevice(device_);
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    if (s < d + bytes && d < s + bytes) {  // overlapping views: cudaMemcpy's result is undefined, go through a copy
      void* staging = nullptr;
      if (wpm_status st = alloc(bytes, &staging)) return st;  // refused while capturing, as any allocation
      cudaError_t err = cudaMemcpyAsync(staging, src, bytes, cudaMemcpyDeviceToDevice, stream_);
      if (err == cudaSuccess) err = cudaMemcpyAsync(dst, staging, bytes, cudaMemcpyDeviceToDevice, stream_);
      release(staging);  // stream-ordered reuse
      if (err != cudaSuccess) return cuda_failed(err, "device copy");
      return WPM_OK;
    }
    WPM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_), "device copy");
    return WPM_OK;
  }
  wpm_status wait() override {
    cudaSetDevice(device_);
    count_host_wait();
    WPM_CUDA_CHECK(cudaStreamSynchronize(stream_), "synchronize");
    return WPM_OK;
  }
  // A wrapped pointer must be memory our kernels can dereference on device_: device memory of
  // that device, or managed memory. Plain or page-locked host memory is refused, as the
  // boundary promises: a kernel reading it would fault or run over PCIe unannounced. The
  // runtime API does not tell an allocation's extent, so the byte count is the caller's word.
  std::string device_memory_problem(const void* ptr, size_t bytes) override {
    (void)bytes;
    cudaPointerAttributes attributes{};
    const cudaError_t err = cudaPointerGetAttributes(&attributes, ptr);
    if (err != cudaSuccess) {
      cudaGetLastError();  // older runtimes report an unknown host pointer as cudaErrorInvalidValue
      return std::string("it is not CUDA device memory (cudaPointerGetAttributes: ") + cudaGetErrorString(err) + ")";
    }
    switch (attributes.type) {
      case cudaMemoryTypeDevice:
        if (attributes.device != device_)
          return "it is memory of CUDA device " + std::to_string(attributes.device) + ", not of this context's device " +
                 std::to_string(device_);
        return "";
      case cudaMemoryTypeManaged: return "";
      case cudaMemoryTypeHost: return "it is page-locked host memory, not device memory";
      default: return "it is host memory, not CUDA device memory";
    }
  }
  wpm_status run_gemm(const GemmArgs& args) override {
    if (args.row_invariant)  // cuBLASLt picks its algorithm (split-K included) by shape
      return fail_argument(WPM_ERR_UNSUPPORTED, "row_invariant",
                           "wpm_gemm: argument 'row_invariant' is set; the cuda backend has no row-invariant GEMM "
                           "yet (cpu and emu have)");
    cudaSetDevice(device_);
    return cublas_->gemm(args, stream_);
  }

  wpm_status start_capture() override {
    cudaSetDevice(device_);
    WPM_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    return WPM_OK;
  }
  wpm_status finish_capture(std::unique_ptr<PlatformGraph>* graph) override {
    cudaSetDevice(device_);
    cudaGraph_t captured = nullptr;
    WPM_CUDA_CHECK(cudaStreamEndCapture(stream_, &captured), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t err = cudaGraphInstantiate(&exec, captured, nullptr, nullptr, 0);
    cudaGraphDestroy(captured);  // the executable graph is a copy
    if (err != cudaSuccess) return cuda_failed(err, "cudaGraphInstantiate");
    *graph = std::make_unique<CudaGraph>(device_, exec);
    return WPM_OK;
  }
  void abandon_capture() override {
    cudaSetDevice(device_);
    cudaGraph_t partial = nullptr;
    if (cudaStreamEndCapture(stream_, &partial) == cudaSuccess && partial != nullptr) cudaGraphDestroy(partial);
    cudaGetLastError();  // an invalidated capture's error is not this call's
  }
  wpm_status launch_graph(const PlatformGraph& graph) override {
    const auto& cuda_graph = static_cast<const CudaGraph&>(graph);
    cudaSetDevice(device_);
    WPM_CUDA_CHECK(cudaGraphLaunch(cuda_graph.exec, stream_), "cudaGraphLaunch");
    return WPM_OK;
  }

 private:
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  bool owns_stream_ = true;
  CachingAllocator allocator_;
  UploadStaging staging_;  // destroyed after the destructor body has synchronized the stream
  void* workspace_ = nullptr;
  std::unique_ptr<Cublas> cublas_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device, void* stream) {
  auto platform = std::make_unique<CudaPlatform>();
  if (platform->start(device, static_cast<cudaStream_t>(stream)) != WPM_OK) return nullptr;  // start set the message
  return kernels_cuda::make_device_backend(std::move(platform));
}

}  // namespace wpm
