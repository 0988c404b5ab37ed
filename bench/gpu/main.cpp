// worldpm_gpu_bench: times every kernel family of kernels/include/kernels.h on a CUDA
// device, next to the device's own ceilings measured in the same run (cuBLASLt GEMM in
// bf16, f16 and f32; device-to-device copy), and reports each kernel's median and min time,
// its rate (TFLOP/s or GB/s, from the FLOP and byte counts its header states) and the
// fraction of the matching ceiling. options.h has the command line; timer.h the timing
// method; ceilings.h and suite_*.cpp what each row counts.
//
// Without a device it prints exactly one line,
//   worldpm_gpu_bench: no CUDA device (<the runtime's reason>)
// and exits 0, so CI (no GPU) can run it; CTest gpu_bench.no_device_or_quick holds that.
// Exit status: 0 when every measurement ran, 1 when any failed (each failure is on stderr
// with the launcher's klast_error() or the CUDA error), 2 on a bad command line.
//
// Kernels are called through their launchers (namespace kernels_cuda, nvcc's objects of
// kernels/*.cu) on one non-blocking stream; nothing here launches with <<<>>>.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <exception>
#include <string>

#include "bench.h"
#include "ceilings.h"
#include "check.h"
#include "options.h"
#include "report.h"
#include "suites.h"
#include "timer.h"

namespace gpubench {

namespace {

class Stream {
 public:
  Stream() { check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~Stream() {
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

int attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  check_cuda(cudaDeviceGetAttribute(&value, attr, device), "cudaDeviceGetAttribute");
  return value;
}

void describe_device(Report& report, int device) {
  cudaDeviceProp prop{};
  check_cuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  int driver = 0, runtime = 0;
  check_cuda(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
  check_cuda(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
  report.device(device, prop, attribute(cudaDevAttrClockRate, device), attribute(cudaDevAttrMemoryClockRate, device),
                attribute(cudaDevAttrGlobalMemoryBusWidth, device), driver, runtime);
}

int run(const Options& options) {
  const int device = 0;
  Report report(options.json);
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
  describe_device(report, device);
  if (!options.json)
    std::printf("timing: %d repetitions after %d warm-up launches, each between its own CUDA events; median and "
                "min; L2 %s before each repetition\n\n",
                options.reps, options.warmup, options.warm_l2 ? "not flushed" : "flushed");

  Stream stream;
  const size_t l2_flush = options.warm_l2 ? 0 : 2 * size_t(attribute(cudaDevAttrL2CacheSize, device));
  Timer timer(stream.get(), options.warmup, options.reps, l2_flush);
  Bench bench(options, timer, report);
  try {
    bench.set_ceilings(measure_ceilings(bench, timer, report, options.quick));
    attention_suite(bench);
    elementwise_suite(bench);
    layer_suite(bench);
    last_token_pool_suite(bench);
    bt_loss_suite(bench);
    optimizer_suite(bench);
  } catch (const ContextBroken& e) {
    std::fprintf(stderr, "worldpm_gpu_bench: stopped: %s\n", e.what());
    return 1;
  }
  if (bench.failures() > 0) {
    std::fprintf(stderr, "worldpm_gpu_bench: %d measurement(s) failed (above)\n", bench.failures());
    return 1;
  }
  return 0;
}

}  // namespace

}  // namespace gpubench

int main(int argc, char** argv) {
  gpubench::Options options;
  std::string error;
  if (!gpubench::parse_options(argc, argv, &options, &error)) {
    std::fprintf(stderr, "worldpm_gpu_bench: %s\n%s\n", error.c_str(), gpubench::usage());
    return 2;
  }
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    std::printf("worldpm_gpu_bench: no CUDA device (%s)\n", cudaGetErrorString(err != cudaSuccess ? err : cudaErrorNoDevice));
    return 0;
  }
  try {
    return gpubench::run(options);
  } catch (const std::exception& e) {  // device set-up (properties, stream, L2 flush buffer), host memory
    std::fprintf(stderr, "worldpm_gpu_bench: FAILED %s\n", e.what());
    return 1;
  }
}
