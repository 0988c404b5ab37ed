// Failures in the GPU bench: every CUDA runtime call, kernel launcher (kstatus) and
// cuBLASLt call is checked, and a failure becomes a BenchError carrying what failed and
// the runtime's own words (cudaGetErrorString, klast_error(), wpm::last_error()). The
// bench reports it and goes on with the next kernel, or stops when the CUDA context is
// broken (a sticky error such as an illegal address); it never aborts mid-run.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

#include "kernels.h"

namespace gpubench {

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check_cuda(cudaError_t err, const std::string& what) {
  if (err != cudaSuccess) throw BenchError(what + ": " + cudaGetErrorString(err));
}

// A kernel launcher's status; its message is klast_error(). The launch error itself
// (cudaGetLastError) is already folded into the status by klaunch (kemu.h).
inline void check_launch(kstatus status, const std::string& what) {
  if (status != KSTATUS_OK) throw BenchError(what + ": " + klast_error());
}

}  // namespace gpubench
