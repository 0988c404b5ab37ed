#include "device_buffer.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "check.h"
#include "half.h"

namespace gpubench {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// (k + 0.5) / 2^24 for a 24-bit k: strictly inside (0, 1), and 2u - 1 is never 0.
float uniform01(uint64_t& state) { return (float(splitmix64(state) >> 40) + 0.5f) * (1.0f / 16777216.0f); }

constexpr int64_t kPatternElements = int64_t(1) << 22;

// cudaMemcpy from pageable memory may return before its DMA has landed, and it runs on the
// legacy default stream, which the bench's non-blocking stream does not wait for: wait here.
// (Only ever called while setting up, never while a timed batch holds the stream.)
void settle() { check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize (after a host-to-device copy)"); }

}  // namespace

size_t dtype_bytes(kdtype dtype) { return dtype == kdtype::f32 ? 4 : 2; }

const char* dtype_name(kdtype dtype) {
  switch (dtype) {
    case kdtype::f32: return "f32";
    case kdtype::f16: return "f16";
    case kdtype::bf16: return "bf16";
  }
  return "?";
}

DeviceBuffer::DeviceBuffer(size_t bytes) : bytes_(bytes) {
  check_cuda(cudaMalloc(&ptr_, std::max<size_t>(bytes, 1)), "cudaMalloc(" + std::to_string(bytes) + " bytes)");
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_ != nullptr) cudaFree(ptr_);  // after a sticky error this fails too; nothing more to do
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

DeviceBuffer random_buffer(kdtype dtype, int64_t n, float lo, float hi, uint64_t seed) {
  const size_t elem = dtype_bytes(dtype);
  DeviceBuffer buffer(size_t(n) * elem);
  const int64_t pattern = std::min(n, kPatternElements);
  std::vector<unsigned char> host(size_t(pattern) * elem);
  uint64_t state = seed;
  for (int64_t i = 0; i < pattern; ++i) {
    const float x = lo + (hi - lo) * uniform01(state);
    switch (dtype) {
      case kdtype::f32: std::memcpy(&host[size_t(i) * 4], &x, 4); break;
      case kdtype::f16: {
        const uint16_t h = wpm::float_to_f16(x);
        std::memcpy(&host[size_t(i) * 2], &h, 2);
        break;
      }
      case kdtype::bf16: {
        const uint16_t h = wpm::float_to_bf16(x);
        std::memcpy(&host[size_t(i) * 2], &h, 2);
        break;
      }
    }
  }
  for (int64_t at = 0; at < n; at += pattern) {
    const size_t count = size_t(std::min(pattern, n - at));
    check_cuda(cudaMemcpy(buffer.as<unsigned char>() + size_t(at) * elem, host.data(), count * elem,
                          cudaMemcpyHostToDevice),
               "cudaMemcpy (random fill)");
  }
  settle();
  return buffer;
}

DeviceBuffer upload(const void* host, size_t bytes) {
  DeviceBuffer buffer(bytes);
  if (bytes > 0) check_cuda(cudaMemcpy(buffer.get(), host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (upload)");
  settle();
  return buffer;
}

std::vector<int32_t> random_ints(int64_t n, int32_t lo, int32_t hi, uint64_t seed) {
  std::vector<int32_t> out(static_cast<size_t>(n));
  uint64_t state = seed;
  const uint64_t span = uint64_t(int64_t(hi) - lo + 1);
  for (auto& v : out) v = int32_t(lo + int64_t(splitmix64(state) % span));
  return out;
}

}  // namespace gpubench
