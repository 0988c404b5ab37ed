// Host-facing declarations of every kernel launcher in kernels/*.cu, shared by
// the cuda backend (the .cu files compiled by nvcc) and the emu backend (the
// same files compiled as C++ against kemu.h). Nothing here needs a CUDA
// header: the stream is CUDA's own opaque `CUstream_st*`, so a cudaStream_t
// converts implicitly, and the emulator ignores it (it runs synchronously).
//
// Every launcher checks its preconditions, launches through klaunch (kemu.h)
// and returns a kstatus; on failure klast_error() says what was wrong.
#pragma once

#include <cstdint>
#include <string>

struct CUstream_st;
using kstream_t = CUstream_st*;

enum kstatus : int {
  KSTATUS_OK = 0,
  KSTATUS_INVALID_ARGUMENT = 1,  // a precondition of the launcher (size, alignment, dtype) failed
  KSTATUS_LAUNCH_FAILED = 2,     // the launch itself failed (CUDA error, or an emulator report)
};

enum class kdtype : int { f32, f16, bf16 };

// The calling thread's message for the last failed launcher call.
inline std::string& klast_error_slot() {
  static thread_local std::string message;
  return message;
}
inline const char* klast_error() { return klast_error_slot().c_str(); }
inline kstatus kfail(kstatus status, std::string message) {
  klast_error_slot() = std::move(message);
  return status;
}

// ---- gelu.cu
enum class gelu_form : int { tanh, exact };
kstatus gelu_fwd(kstream_t stream, const void* x, void* out, int64_t n, gelu_form form, kdtype dtype);
kstatus gelu_bwd(kstream_t stream, const void* dout, const void* x, void* dx, int64_t n, gelu_form form,
                 kdtype dtype);
