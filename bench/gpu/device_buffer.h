// Device memory for the GPU bench: an owning buffer (cudaMalloc / cudaFree, freed on every
// path out, exceptions included) and its fills. Inputs are never zeros: values are drawn on
// the host (splitmix64, uniform in (lo, hi), never exactly 0 for a range around 0), converted
// to the storage dtype with the library's own rounding (common/include/half.h) and copied up with
// cudaMemcpy. Large buffers repeat a 4 Mi-element random pattern: the kernels timed here do
// not depend on the values beyond them being finite and non-zero, and drawing a GiB on the
// host would cost more than the whole measurement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels.h"

namespace gpubench {

size_t dtype_bytes(kdtype dtype);
const char* dtype_name(kdtype dtype);

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);  // throws BenchError when cudaMalloc fails
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// n elements of dtype, uniform in (lo, hi); seed picks the sequence.
DeviceBuffer random_buffer(kdtype dtype, int64_t n, float lo, float hi, uint64_t seed);
// Host data copied up as is (index arrays, tensor tables).
DeviceBuffer upload(const void* host, size_t bytes);
template <class T>
DeviceBuffer upload(const std::vector<T>& host) { return upload(host.data(), host.size() * sizeof(T)); }

// Integers uniform in [lo, hi] (token ids, lengths), drawn on the host.
std::vector<int32_t> random_ints(int64_t n, int32_t lo, int32_t hi, uint64_t seed);

}  // namespace gpubench
