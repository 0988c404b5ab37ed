// Gradient utilities: the global L2 norm over many tensors (two-phase,
// deterministic) and the loss scaler's in-place scale with an inf/NaN check.
//
//   tensors: a table ktensor[count] (kernels.h) in DEVICE memory; each entry is
//   f32 / f16 / bf16 data of `count` elements.
//   global_norm:        out[0] = sqrt(sum over all tensors and elements of x^2)
//   scale_check_finite: x *= scale in place (rounded to the storage dtype);
//                       found_inf[0] = 1 if any STORED result is inf or NaN, else 0
//
// global_norm, phase 1 (global_norm_partial_kernel): a FIXED grid of 512
//   blocks x 256 threads (independent of the GPU) walks the tensors in order
//   with a grid-stride loop (the table staged in shared memory per block);
//   every thread sums its squares in float64 (no overflow for any f32 input,
//   no precision loss over millions of terms),
//   then a block reduction (block_reduce.cuh) writes the block's partial to
//   the workspace (512 doubles: global_norm_workspace_bytes()).
// Phase 2 (global_norm_final_kernel): one block adds the 512 partials with a
//   fixed association and writes sqrt. Same input, same bits, on any GPU and
//   in every emulator schedule. An inf or NaN element gives an inf/NaN norm.
// Cost: 2 FLOPs (fp64) per element, sizeof(T) bytes read per element; fp64
//   adds run at half the fp32 rate on A100/H100, far above memory speed.
// scale_check_finite: scale_check_finite_clear_kernel writes 0 to found_inf,
//   then scale_check_finite_kernel (grid-stride over each tensor, the table
//   staged in shared memory per block) scales, and a thread that stored a
//   non-finite value writes 1.0f. Every such store writes the same constant,
//   so the result does not depend on their order (a store, not an atomic:
//   nothing is read back). Cost: 1 FLOP, 2 sizeof(T) bytes per element.
// Minimum bytes, stated when the launcher is given the table's host copy (the
//   device table cannot be read on the host): the table once, every element
//   once (read; and written, for the scale), the 512 partials written and
//   read, out or found_inf written (the launchers below). Each block reads the
//   table once, so a step moves (blocks - 1) table copies more than that.
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: the reductions have barriers; the tests run every schedule with
// poisoned shared memory and expect the same bits.
#include <cfloat>

#include "block_reduce.cuh"
#include "launch_util.cuh"
#include "staged_table.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;
constexpr int kPartials = 512;  // phase-1 blocks: fixed, so the association never changes
constexpr int kTableChunk = 32;  // table entries staged in shared memory at once (staged_table.cuh)

template <class T>
__device__ __forceinline__ double sum_squares(const ktensor& t) {
  const T* __restrict__ x = static_cast<const T*>(t.data);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  double sum = 0.0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < t.count; i += stride) {
    const double v = to_float(x[i]);
    sum += v * v;
  }
  return sum;
}

__global__ void __launch_bounds__(kThreads)
    global_norm_partial_kernel(const ktensor* __restrict__ tensors, int64_t count, double* __restrict__ partial) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(double, scratch, [32]);
  EMU_SHARED(ktensor, staged, [kTableChunk]);
  double sum = 0.0;
  for_each_staged_entry<kTableChunk>(tensors, count, staged, [&](const ktensor& t) {
    switch (t.dtype) {
      case kdtype::f32: sum += sum_squares<float>(t); break;
      case kdtype::f16: sum += sum_squares<half_t>(t); break;
      case kdtype::bf16: sum += sum_squares<bf16_t>(t); break;
    }
  });
  sum = block_reduce_sum(sum, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

__global__ void __launch_bounds__(kThreads)
    global_norm_final_kernel(const double* __restrict__ partial, float* __restrict__ out) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(double, scratch, [32]);
  double sum = 0.0;
  for (int k = threadIdx.x; k < kPartials; k += blockDim.x) sum += partial[k];
  sum = block_reduce_sum(sum, scratch);
  if (threadIdx.x == 0) out[0] = float(sqrt(sum));
}

template <class T>
__device__ __forceinline__ bool scale_tensor(const ktensor& t, float scale) {
  T* __restrict__ x = static_cast<T*>(t.data);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  bool bad = false;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < t.count; i += stride) {
    const T stored = from_float<T>(to_float(x[i]) * scale);
    x[i] = stored;
    bad = bad || !(fabsf(to_float(stored)) <= FLT_MAX);  // false for inf and NaN alike
  }
  return bad;
}

__global__ void __launch_bounds__(1) scale_check_finite_clear_kernel(float* found_inf) {
  kernel_launch_bounds(1);
  found_inf[0] = 0.0f;
}

__global__ void __launch_bounds__(kThreads)
    scale_check_finite_kernel(const ktensor* __restrict__ tensors, int64_t count, float scale, float* found_inf) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(ktensor, staged, [kTableChunk]);
  bool bad = false;
  for_each_staged_entry<kTableChunk>(tensors, count, staged, [&](const ktensor& t) {
    switch (t.dtype) {
      case kdtype::f32: bad = scale_tensor<float>(t, scale) || bad; break;
      case kdtype::f16: bad = scale_tensor<half_t>(t, scale) || bad; break;
      case kdtype::bf16: bad = scale_tensor<bf16_t>(t, scale) || bad; break;
    }
  });
  if (bad) found_inf[0] = 1.0f;
}

// The bytes of the table and of the elements it names, from its host copy (min_bytes: each read once).
struct TableBytes {
  uint64_t table, elements;
};
TableBytes table_bytes(const ktensor* host_tensors, int64_t count) {
  TableBytes b{uint64_t(count) * sizeof(ktensor), 0};
  for (int64_t i = 0; i < count; ++i) b.elements += uint64_t(host_tensors[i].count) * dtype_bytes(host_tensors[i].dtype);
  return b;
}

}  // namespace

namespace WPM_KERNELS_NS {

int64_t global_norm_workspace_bytes() { return kPartials * int64_t(sizeof(double)); }

kstatus global_norm(kstream_t stream, const ktensor* tensors, int64_t count, void* workspace, float* out,
                    const ktensor* host_tensors) {
  if (kstatus s = check_size("global_norm", "count", count)) return s;
  if (kstatus s = check_pointers("global_norm", (count > 0 && !tensors) || !workspace || !out)) return s;
  double* partial = static_cast<double*>(workspace);
  const uint64_t partial_bytes = kPartials * sizeof(double);
  if (host_tensors != nullptr) {
    const TableBytes b = table_bytes(host_tensors, count);
    klaunch_min_bytes(b.table + b.elements + partial_bytes);  // the table, every element; the partials written
  }
  if (kstatus s = klaunch(global_norm_partial_kernel, dim3(kPartials), dim3(kThreads), 0, stream, tensors, count,
                          partial))
    return s;
  klaunch_min_bytes(partial_bytes + sizeof(float));  // the partials read; out
  return klaunch(global_norm_final_kernel, dim3(1), dim3(kThreads), 0, stream, static_cast<const double*>(partial),
                 out);
}

kstatus scale_check_finite(kstream_t stream, const ktensor* tensors, int64_t count, float scale, float* found_inf,
                           const ktensor* host_tensors) {
  if (kstatus s = check_size("scale_check_finite", "count", count)) return s;
  if (kstatus s = check_pointers("scale_check_finite", (count > 0 && !tensors) || !found_inf)) return s;
  klaunch_min_bytes(sizeof(float));  // found_inf
  if (kstatus s = klaunch(scale_check_finite_clear_kernel, dim3(1), dim3(1), 0, stream, found_inf)) return s;
  if (count == 0) return KSTATUS_OK;
  if (host_tensors != nullptr) {
    const TableBytes b = table_bytes(host_tensors, count);
    klaunch_min_bytes(b.table + 2 * b.elements);  // the table; every element read and written
  }
  return klaunch(scale_check_finite_kernel, dim3(unsigned(kMaxBlocks)), dim3(kThreads), 0, stream, tensors, count,
                 scale, found_inf);
}

}  // namespace WPM_KERNELS_NS
