#include "bench.h"

#include <cmath>

#include "check.h"

namespace gpubench {

bool Bench::wants(std::initializer_list<const char*> kernels) const {
  if (options_.filter.empty()) return true;
  for (const char* k : kernels)
    if (std::string(k).find(options_.filter) != std::string::npos) return true;
  return false;
}

void Bench::fail(const std::string& what, const std::string& message) {
  ++failures_;
  report_.failure(what, message);
  // A sticky error (illegal address, launch timeout, ...) survives a synchronize and poisons
  // every later call; a plain one (bad argument, out of memory) is cleared here.
  cudaGetLastError();
  const cudaError_t sticky = cudaDeviceSynchronize();
  if (sticky != cudaSuccess) throw ContextBroken(std::string("the CUDA context is broken: ") + cudaGetErrorString(sticky));
}

void Bench::guarded(const std::string& what, const std::function<void()>& body) {
  try {
    body();
  } catch (const BenchError& e) {
    fail(what, e.what());
  }
}

void Bench::measure(const Work& w, const std::function<void()>& launch) {
  if (!options_.filter.empty() && w.kernel.find(options_.filter) == std::string::npos) return;
  Timing t;
  try {
    t = timer_.time(launch);
  } catch (const BenchError& e) {
    fail(w.kernel + " " + w.dtype + " " + w.shape, e.what());
    return;
  }
  const double seconds = t.median_ms * 1e-3;
  double rate, ceiling;
  if (w.bound == Bound::compute) {
    rate = w.amount / seconds / 1e12;
    ceiling = ceilings_.gemm_tflops[int(w.gemm_dtype)];
  } else {
    rate = w.amount / seconds / 1e9;
    ceiling = ceilings_.copy_gbps;
  }
  report_.kernel(w, t, rate, ceiling > 0 ? rate / ceiling : std::nan(""));
}

}  // namespace gpubench
