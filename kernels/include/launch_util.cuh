// Host-side helpers shared by the launchers in kernels/*.cu: argument checks
// with messages that name the value, grid sizing for grid-stride loops, and
// the dtype -> storage type dispatch. Compiled in both builds (nvcc host code
// and the emulator), so nothing here touches a CUDA API.
#pragma once

#include <string>

#include "kemu.h"

namespace klaunch_util {

constexpr int64_t kMaxBlocks = 1056;  // 132 SMs x 8 resident blocks: enough to cover an H100

// Blocks of `threads` for `work` items, one item per thread, capped at kMaxBlocks (the loop covers the rest).
inline dim3 grid_for(int64_t work, int threads) {
  const int64_t blocks = (work + threads - 1) / threads;
  return dim3(unsigned(blocks < 1 ? 1 : blocks < kMaxBlocks ? blocks : kMaxBlocks));
}

// The work items of a grid-stride loop over n elements of T: one 16-byte pack each on the vector path
// (the last partial pack included), one element each on the scalar path.
template <class T>
inline int64_t pack16_work(int64_t n, bool vectorized) {
  return vectorized ? (n + Pack16<T>::kCount - 1) / Pack16<T>::kCount : n;
}

inline kstatus invalid(const char* op, const std::string& what) {
  return kfail(KSTATUS_INVALID_ARGUMENT, std::string(op) + ": " + what);
}

// A size argument: `name = value is negative` when it is.
inline kstatus check_size(const char* op, const char* name, int64_t value) {
  if (value < 0) return invalid(op, std::string(name) + " = " + std::to_string(value) + " is negative");
  return KSTATUS_OK;
}

inline kstatus check_pointers(const char* op, bool any_null) {
  return any_null ? invalid(op, "a pointer is null") : KSTATUS_OK;
}

// The storage bytes of one element of dtype: what a launcher's minimum-bytes formula multiplies by when the
// dtype is a run-time value (a multi-tensor table's entries).
inline uint64_t dtype_bytes(kdtype dtype) { return dtype == kdtype::f32 ? 4 : 2; }

// Calls fn(T{}) with the storage type T of dtype (float, half_t, bf16_t).
template <class Fn>
kstatus dispatch_dtype(const char* op, kdtype dtype, Fn&& fn) {
  switch (dtype) {
    case kdtype::f32: return fn(float{});
    case kdtype::f16: return fn(half_t{});
    case kdtype::bf16: return fn(bf16_t{});
  }
  return invalid(op, "unknown dtype " + std::to_string(int(dtype)));
}

}  // namespace klaunch_util
