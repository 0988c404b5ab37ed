// Compiled only when CMake found a usable CUDA toolkit. The CUDA runtime is
// linked statically, so libworldpm.so loads on machines without a driver and
// this reports "no device" instead of failing to load.
#include "device.h"

#include <cuda_runtime_api.h>

namespace wpm {

int cuda_device_count(std::string* reason) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    *reason = std::string("no device visible (") + cudaGetErrorString(err) + ")";
    cudaGetLastError();  // clear the sticky error
    return 0;
  }
  if (count == 0) *reason = "no device visible";
  return count;
}

}  // namespace wpm
