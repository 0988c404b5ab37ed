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

#include <cstddef>
#include <memory>
#include <string>

#include "../backend.h"

struct CUstream_st;

namespace wpm {

class DevicePlatform {
 public:
  virtual ~DevicePlatform() = default;
  virtual wpm_backend kind() const = 0;
  virtual int num_threads() const = 0;
  // The stream every kernel and copy of this context is queued on, in order; called right before
  // each launch, it also makes this platform's device the calling thread's current one.
  virtual CUstream_st* launch_stream() = 0;

  virtual wpm_status alloc(size_t bytes, void** ptr) = 0;
  // Stream-ordered: memory released here may be handed out again only to work
  // queued after the work that used it (a single stream guarantees that).
  virtual void release(void* ptr) = 0;
  virtual wpm_status to_device(void* dst, const void* host, size_t bytes) = 0;
  virtual wpm_status to_host(void* host, const void* src, size_t bytes) = 0;  // waits for the stream
  // Overlapping ranges are allowed (views of one buffer): the result is memmove's.
  virtual wpm_status on_device(void* dst, const void* src, size_t bytes) = 0;
  virtual wpm_status synchronize() = 0;
  // Backend::caller_memory_problem: "" when [ptr, ptr + bytes) is device memory this platform's
  // kernels may address, else why not (a host pointer, another device, outside any allocation).
  virtual std::string device_memory_problem(const void* ptr, size_t bytes) = 0;
  virtual wpm_status gemm(const GemmArgs& args) = 0;
};

}  // namespace wpm
