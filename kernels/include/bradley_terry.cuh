// The Bradley-Terry loss over preference pairs as block-wide device functions,
// shared by bt_loss.cu and the fused preference head (preference_head.cu), so
// both give the same bits for the same rewards.
//
//   delta_i = chosen_i - rejected_i - margin
//   loss    = sum_i w_i softplus(-delta_i) / sum_i w_i                (w_i = 1 without weights)
//   dchosen_i = dloss w_i (sigmoid(delta_i) - 1) / sum w,  drejected_i = -dchosen_i
//
// Stability: softplus(z) = max(z, 0) + log1p(exp(-|z|)) never overflows, and
// sigmoid(delta) - 1 = -sigmoid(-delta) is formed from exp(-|delta|) only
// (no 1 - 1 cancellation), so |delta| of hundreds is finite and accurate.
//
// One block does all pairs: thread k accumulates pairs k, k + blockDim.x, ...
// in order in fp32, then a deterministic block reduction (block_reduce.cuh).
// Every thread of the block must call these together (they have barriers).
#pragma once

#include "block_reduce.cuh"
#include "kemu.h"

__device__ __forceinline__ float bt_softplus(float z) { return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))); }

// sigmoid(delta) - 1 = -sigmoid(-delta), without cancellation for large delta.
__device__ __forceinline__ float bt_sigmoid_minus_one(float delta) {
  const float e = expf(-fabsf(delta));  // in (0, 1]
  return delta >= 0.0f ? -e / (1.0f + e) : -1.0f / (1.0f + e);
}

// The loss, on every thread. scratch: shared memory of 32 floats.
__device__ __forceinline__ float bt_block_loss(const float* chosen, const float* rejected, const float* weights,
                                               int64_t pairs, float margin, float* scratch) {
  float weighted = 0.0f, weight = 0.0f;
  for (int64_t i = threadIdx.x; i < pairs; i += blockDim.x) {
    const float w = weights ? weights[i] : 1.0f;
    weighted += w * bt_softplus(-(chosen[i] - rejected[i] - margin));
    weight += w;
    kcount_flops(8);  // the margin difference 2, exp and log1p 2, their sum 1, the weight 1, the two sums 2
  }
  const float total = block_reduce_sum(weighted, scratch);
  const float total_weight = block_reduce_sum(weight, scratch);
  return total / total_weight;
}

// Writes dchosen and drejected. scratch: shared memory of 32 floats.
__device__ __forceinline__ void bt_block_grad(const float* chosen, const float* rejected, const float* weights,
                                              float* dchosen, float* drejected, int64_t pairs, float margin,
                                              float dloss, float* scratch) {
  float weight_sum = float(pairs);
  if (weights) {  // uniform across the block: every thread takes the barriers or none does
    float weight = 0.0f;
    for (int64_t i = threadIdx.x; i < pairs; i += blockDim.x) weight += weights[i];
    weight_sum = block_reduce_sum(weight, scratch);
  }
  const float scale = dloss / weight_sum;
  for (int64_t i = threadIdx.x; i < pairs; i += blockDim.x) {
    const float w = weights ? weights[i] : 1.0f;
    const float g = scale * w * bt_sigmoid_minus_one(chosen[i] - rejected[i] - margin);
    dchosen[i] = g;
    drejected[i] = -g;
    kcount_flops(7);  // the margin difference 2, exp 1, the sigmoid's sum and division 2, the scaling 2
  }
}
