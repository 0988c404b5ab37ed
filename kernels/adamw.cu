// AdamW: one fused multi-tensor step, one pass over every tensor.
//
// Per element of tensor i (fp32 master param p, fp32 moments m, v; grad f32 /
// f16 / bf16; optional working copy f32 / f16 / bf16):
//   g = grad * grad_scale
//   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   p -= lr (m / bc1 / (sqrt(v / bc2) + eps) + wd_i p)    bc_k = 1 - b_k^step
//   working = p rounded to its dtype, in the same pass
// wd_i = weight_decay where the tensor's decay flag is set, else 0. The decay
// term uses p before this step's update (decoupled weight decay, as the CPU
// backend and PyTorch). Bias corrections are formed in float64 on the host.
//
// With grad_check (f32 [2] in device memory: inf/NaN flag, norm of the stored
// gradients) the host never sees the norm: a set flag leaves every buffer as
// it was, and otherwise grad_scale becomes grad_scale * min(1, max_grad_norm /
// (norm * grad_scale + 1e-6)) (no clip when max_grad_norm is 0), formed in
// float64 by thread 0 of each block and shared, so the two floats are read
// once per block rather than once per thread. With step_values (f32 [3] in
// device memory: lr, 1/bc1, 1/bc2) thread 0 reads those the same way, in place
// of the by-value lr and the host's bias corrections, so a step recorded into a
// graph takes each replay's learning rate and step count.
//
// The tensor table (kadamw_tensor[count], kernels.h) lives in DEVICE memory:
// the backend uploads it once per step (or keeps it, since pointers rarely
// change); each block copies it into shared memory chunk by chunk. Every
// element has exactly one thread: no reduction, no atomics.
//
// Tiling: a fixed grid of 1056 blocks x 256 threads walks the tensors in
// order; inside a tensor, a grid-stride loop with element i on thread
// i mod (grid size) (coalesced). The (grad dtype, working dtype) pair picks one
// of 12 branch-free loops per tensor. Small tensors leave most threads idle for
// a moment; the big matrices dominate the step.
// Cost per element: ~15 FLOPs + sqrtf + a division; bytes 12 (p, m, v read) +
// sizeof(grad) + 12 (p, m, v written) + sizeof(working): 30-34 bytes, so a
// 7B-parameter step moves ~220 GB (~70 ms at H100's 3.3 TB/s; estimate).
// Minimum bytes (step_min_bytes, stated when the launcher is given the table's
// host copy): those per element, the table once, grad_check's 8 bytes and
// step_values' 12. Each block reads the table once: (blocks - 1) copies of it
// over the minimum.
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// The table is staged in shared memory a chunk at a time (staged_table.cuh), with barriers between chunks;
// the emulator gives the same bits in every schedule.
#include "launch_util.cuh"
#include "staged_table.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;
constexpr int kTableChunk = 32;  // table entries staged in shared memory at once (32 x 64 bytes)

struct StepConstants {
  float lr, beta1, beta2, one_minus_beta1, one_minus_beta2, inv_bc1, inv_bc2, eps, weight_decay, grad_scale;
  const float* grad_check;
  float max_grad_norm;
  const float* step_values;
};

// The gradient factor of a checked step, or -1 when the flag says skip.
__device__ __forceinline__ float checked_grad_factor(const StepConstants& k) {
  if (k.grad_check[0] != 0.0f) return -1.0f;
  const double norm = double(k.grad_check[1]) * double(k.grad_scale);
  const double clip =
      k.max_grad_norm > 0.0f && norm > double(k.max_grad_norm) ? double(k.max_grad_norm) / (norm + 1e-6) : 1.0;
  return float(clip * double(k.grad_scale));
}

template <class G, class W, bool kHasWorking>
__device__ __forceinline__ void adamw_tensor(const kadamw_tensor& t, const StepConstants& k) {
  const G* __restrict__ grad = static_cast<const G*>(t.grad);
  float* __restrict__ p = t.param;
  float* __restrict__ m = t.m;
  float* __restrict__ v = t.v;
  W* __restrict__ working = static_cast<W*>(t.working);
  const float decay = t.decay ? k.weight_decay : 0.0f;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < t.count; i += stride) {
    const float g = to_float(grad[i]) * k.grad_scale;
    const float mi = k.beta1 * m[i] + k.one_minus_beta1 * g;
    const float vi = k.beta2 * v[i] + k.one_minus_beta2 * g * g;
    float pi = p[i];
    pi -= k.lr * (mi * k.inv_bc1 / (sqrtf(vi * k.inv_bc2) + k.eps) + decay * pi);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
    if constexpr (kHasWorking) working[i] = from_float<W>(pi);
  }
}

template <class G>
__device__ __forceinline__ void adamw_tensor_by_working(const kadamw_tensor& t, const StepConstants& k) {
  if (t.working == nullptr) return adamw_tensor<G, float, false>(t, k);
  switch (t.working_dtype) {
    case kdtype::f32: return adamw_tensor<G, float, true>(t, k);
    case kdtype::f16: return adamw_tensor<G, half_t, true>(t, k);
    case kdtype::bf16: return adamw_tensor<G, bf16_t, true>(t, k);
  }
}

__global__ void __launch_bounds__(kThreads)
    adamw_step_kernel(const kadamw_tensor* __restrict__ tensors, int64_t count, StepConstants k) {
  kernel_launch_bounds(kThreads);
  // What thread 0 reads from device memory for the block: the gradient factor, then lr, 1/bc1, 1/bc2.
  EMU_SHARED(float, shared_k, [4]);
  if (k.grad_check != nullptr || k.step_values != nullptr) {
    if (threadIdx.x == 0) {
      shared_k[0] = k.grad_check != nullptr ? checked_grad_factor(k) : k.grad_scale;
      if (k.step_values != nullptr)
        for (int i = 0; i < 3; ++i) shared_k[1 + i] = k.step_values[i];
    }
    __syncthreads();
    if (shared_k[0] < 0.0f) return;
    k.grad_scale = shared_k[0];
    if (k.step_values != nullptr) {
      k.lr = shared_k[1];
      k.inv_bc1 = shared_k[2];
      k.inv_bc2 = shared_k[3];
    }
  }
  EMU_SHARED(kadamw_tensor, staged, [kTableChunk]);
  for_each_staged_entry<kTableChunk>(tensors, count, staged, [&](const kadamw_tensor& t) {
    switch (t.grad_dtype) {
      case kdtype::f32: adamw_tensor_by_working<float>(t, k); break;
      case kdtype::f16: adamw_tensor_by_working<half_t>(t, k); break;
      case kdtype::bf16: adamw_tensor_by_working<bf16_t>(t, k); break;
    }
  });
}

// Every element's p, m, v read and written, its gradient read and its working copy written; the table and
// grad_check read once.
uint64_t step_min_bytes(const kadamw_tensor* host_tensors, int64_t count, bool grad_check, bool step_values) {
  uint64_t bytes = uint64_t(count) * sizeof(kadamw_tensor) + (grad_check ? 2 * sizeof(float) : 0) +
                   (step_values ? 3 * sizeof(float) : 0);
  for (int64_t i = 0; i < count; ++i) {
    const kadamw_tensor& t = host_tensors[i];
    const uint64_t per_element =
        6 * sizeof(float) + dtype_bytes(t.grad_dtype) + (t.working != nullptr ? dtype_bytes(t.working_dtype) : 0);
    bytes += uint64_t(t.count) * per_element;
  }
  return bytes;
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus adamw_step(kstream_t stream, const kadamw_tensor* tensors, int64_t count, const kadamw_hyper& h,
                   const kadamw_tensor* host_tensors) {
  if (kstatus s = check_size("adamw_step", "count", count)) return s;
  if (count == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers("adamw_step", !tensors)) return s;
  if (h.step_values == nullptr && h.step < 1) return invalid("adamw_step", "step = " + std::to_string(h.step) + " must be >= 1");
  StepConstants k;
  k.lr = h.lr;
  k.beta1 = h.beta1;
  k.beta2 = h.beta2;
  k.one_minus_beta1 = 1.0f - h.beta1;
  k.one_minus_beta2 = 1.0f - h.beta2;
  // In double: b^step for a large step underflows gracefully to 0.
  k.inv_bc1 = float(1.0 / (1.0 - std::pow(double(h.beta1), double(h.step))));
  k.inv_bc2 = float(1.0 / (1.0 - std::pow(double(h.beta2), double(h.step))));
  k.eps = h.eps;
  k.weight_decay = h.weight_decay;
  k.grad_scale = h.grad_scale;
  k.grad_check = h.grad_check;
  k.max_grad_norm = h.max_grad_norm;
  k.step_values = h.step_values;
  if (host_tensors != nullptr) klaunch_min_bytes(step_min_bytes(host_tensors, count, h.grad_check != nullptr, h.step_values != nullptr));
  return klaunch(adamw_step_kernel, dim3(unsigned(kMaxBlocks)), dim3(kThreads), 0, stream, tensors, count, k);
}

}  // namespace WPM_KERNELS_NS
