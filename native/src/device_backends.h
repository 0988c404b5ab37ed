// Factories of the device backends; each returns null and sets the error
// (wpm::fail) when it cannot start, and exists only when its backend is built
// (WPM_HAVE_EMU, WPM_HAVE_CUDA).
#pragma once

#include <memory>
#include <string>

#include "backend.h"

namespace wpm {

// The kernel emulator (native/emu): kernels/*.cu compiled as C++, run on `threads` OS threads
// (0: WORLDPM_NUM_THREADS, else the core count); GEMMs on the CPU backend's BLAS.
std::unique_ptr<Backend> make_emu_backend(int threads);
// The emulator as this build has it: "" when usable, else why not.
std::string emu_unavailable_reason();

// CUDA device `device`: a caching allocator and cuBLASLt handle, and its own stream, or the
// caller's `stream` (a cudaStream_t of that device) when not null.
std::unique_ptr<Backend> make_cuda_backend(int device, void* stream);

}  // namespace wpm
