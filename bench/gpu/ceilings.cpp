#include "ceilings.h"

#include <cmath>
#include <memory>
#include <string>

#include "check.h"
#include "cuda/cublaslt.h"
#include "device_buffer.h"
#include "error.h"

namespace gpubench {

namespace {

constexpr size_t kCopyBytes = size_t(1) << 30;

wpm_dtype abi_dtype(kdtype dtype) {
  switch (dtype) {
    case kdtype::f16: return WPM_F16;
    case kdtype::bf16: return WPM_BF16;
    default: return WPM_F32;
  }
}

// The library's cuBLASLt wrapper with a handle and workspace of its own.
class GemmRunner {
 public:
  GemmRunner() {
    std::string error;
    const wpm::CublasLtApi* api = wpm::CublasLtApi::load(&error);
    if (api == nullptr) throw BenchError("cuBLASLt: " + error);
    workspace_ = DeviceBuffer(wpm::Cublas::kWorkspaceBytes);
    cublasLtHandle_t handle = nullptr;
    if (api->create(&handle) != CUBLAS_STATUS_SUCCESS) throw BenchError("cublasLtCreate failed");
    cublas_ = std::make_unique<wpm::Cublas>(*api, handle, workspace_.get(), workspace_.bytes());
  }

  double tflops(kdtype dtype, int64_t n, Timer& timer, Report& report, uint64_t seed) {
    const int64_t count = n * n;
    DeviceBuffer a = random_buffer(dtype, count, -1, 1, seed);
    DeviceBuffer b = random_buffer(dtype, count, -1, 1, seed + 1);
    DeviceBuffer c(size_t(count) * dtype_bytes(dtype));
    wpm::GemmArgs g{};
    g.m = g.n = g.k = n;
    g.batch = 1;
    g.alpha = 1;
    g.beta = 0;
    g.a = a.get();
    g.b = b.get();
    g.c = c.get();
    g.lda = g.ldb = g.ldc = n;
    g.dtype = abi_dtype(dtype);
    const Timing t = timer.time([&] {
      if (cublas_->gemm(g, timer.stream()) != WPM_OK) throw BenchError(wpm::last_error());
    });
    const double tflops = 2.0 * double(n) * double(n) * double(n) / (t.median_ms * 1e-3) / 1e12;
    report.gemm_ceiling(dtype, n, t, tflops);
    return tflops;
  }

 private:
  DeviceBuffer workspace_;  // declared before cublas_: the handle goes first
  std::unique_ptr<wpm::Cublas> cublas_;
};

double copy_gbps(Timer& timer, Report& report, uint64_t seed) {
  DeviceBuffer src = random_buffer(kdtype::f32, int64_t(kCopyBytes / 4), -1, 1, seed);
  DeviceBuffer dst(kCopyBytes);
  const Timing t = timer.time([&] {
    check_cuda(cudaMemcpyAsync(dst.get(), src.get(), kCopyBytes, cudaMemcpyDeviceToDevice, timer.stream()),
               "cudaMemcpyAsync (device to device)");
  });
  const double gbps = 2.0 * double(kCopyBytes) / (t.median_ms * 1e-3) / 1e9;
  report.copy_ceiling(kCopyBytes, t, gbps);
  return gbps;
}

}  // namespace

Ceilings measure_ceilings(Bench& bench, Timer& timer, Report& report, bool quick) {
  Ceilings c{{std::nan(""), std::nan(""), std::nan("")}, std::nan("")};
  const int64_t n = quick ? 4096 : 8192;
  try {
    GemmRunner gemm;
    for (kdtype dtype : {kdtype::bf16, kdtype::f16, kdtype::f32}) {
      try {
        c.gemm_tflops[int(dtype)] = gemm.tflops(dtype, n, timer, report, bench.next_seed() * 1000);
      } catch (const BenchError& e) {
        bench.fail(std::string("gemm ceiling ") + dtype_name(dtype), e.what());
      }
    }
  } catch (const BenchError& e) {
    bench.fail("gemm ceiling", e.what());
  }
  try {
    c.copy_gbps = copy_gbps(timer, report, bench.next_seed() * 1000);
  } catch (const BenchError& e) {
    bench.fail("copy ceiling", e.what());
  }
  return c;
}

}  // namespace gpubench
