// Bradley-Terry loss over preference pairs, forward and backward (all f32).
//
//   chosen, rejected, weights (optional), dchosen, drejected: f32 [P]; loss f32 [1]
//   delta_i = chosen_i - rejected_i - margin
//   l_i     = softplus(-delta_i) = -log sigmoid(delta_i)
//   loss    = sum_i w_i l_i / sum_i w_i                      (w_i = 1 without weights)
//   dchosen_i = dloss w_i (sigmoid(delta_i) - 1) / sum w,  drejected_i = -dchosen_i
//
// The math (and its stability) is in bradley_terry.cuh, shared with the fused
// preference head.
//
// Tiling: P is a batch of pairs (tens to thousands), so each direction is ONE
// block of 512 threads: thread k accumulates pairs k, k + 512, ... in order in
// fp32, then a deterministic block reduction (block_reduce.cuh: warp
// butterflies, then warp partials in warp order) gives the sums. Fixed
// association, no atomics: the same bits in every run. One block streams
// ~100 GB/s, so P = 1e6 pairs (12 MB) would take ~0.1 ms; beyond that a
// two-phase grid reduction would pay (not needed for preference batches).
// Cost per pair: fwd ~10 FLOPs + expf + log1pf, 8-12 bytes; bwd ~8 FLOPs +
// expf, 8-12 bytes read + 8 written.
// Weights are device data: each must be finite and >= 0 with a positive sum;
// the kernel does not check them (the backend does), a zero sum gives NaN/inf.
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: the block reductions have barriers; the tests run every schedule
// with poisoned shared memory and expect the same bits.
#include "bradley_terry.cuh"
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 512;

__global__ void __launch_bounds__(kThreads)
    bt_loss_fwd_kernel(const float* __restrict__ chosen, const float* __restrict__ rejected,
                       const float* __restrict__ weights, float* __restrict__ loss, int64_t pairs, float margin) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(float, scratch, [32]);
  const float value = bt_block_loss(chosen, rejected, weights, pairs, margin, scratch);
  if (threadIdx.x == 0) loss[0] = value;
}

__global__ void __launch_bounds__(kThreads)
    bt_loss_bwd_kernel(const float* __restrict__ chosen, const float* __restrict__ rejected,
                       const float* __restrict__ weights, float* __restrict__ dchosen,
                       float* __restrict__ drejected, int64_t pairs, float margin, float dloss) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(float, scratch, [32]);
  bt_block_grad(chosen, rejected, weights, dchosen, drejected, pairs, margin, dloss, scratch);
}

kstatus check(const char* op, int64_t pairs, bool any_null) {
  if (pairs <= 0) return invalid(op, "pairs = " + std::to_string(pairs) + " must be positive");
  return check_pointers(op, any_null);
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus bt_loss_fwd(kstream_t stream, const float* chosen, const float* rejected, const float* weights, float* loss,
                    int64_t pairs, float margin) {
  if (kstatus s = check("bt_loss_fwd", pairs, !chosen || !rejected || !loss)) return s;
  klaunch_min_bytes(uint64_t(pairs) * (weights ? 12 : 8) + 4);
  return klaunch(bt_loss_fwd_kernel, dim3(1), dim3(kThreads), 0, stream, chosen, rejected, weights, loss, pairs,
                 margin);
}

kstatus bt_loss_bwd(kstream_t stream, const float* chosen, const float* rejected, const float* weights,
                    float* dchosen, float* drejected, int64_t pairs, float margin, float dloss) {
  if (kstatus s = check("bt_loss_bwd", pairs, !chosen || !rejected || !dchosen || !drejected)) return s;
  klaunch_min_bytes(uint64_t(pairs) * (weights ? 20 : 16));
  return klaunch(bt_loss_bwd_kernel, dim3(1), dim3(kThreads), 0, stream, chosen, rejected, weights, dchosen,
                 drejected, pairs, margin, dloss);
}

}  // namespace WPM_KERNELS_NS
