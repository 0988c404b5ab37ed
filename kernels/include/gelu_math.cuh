// The GELU functions of gelu.cu, also evaluated inside the fused preference head
// (preference_head.cu): forms without cancellation for negative x, their
// derivatives, and the FLOPs each executes for the work counters.
#pragma once

#include "kemu.h"

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

// The tanh form without cancellation: 0.5 (1 + tanh(u)) = sigmoid(2u), written
// with e = exp(-2|u|) <= 1 so nothing overflows: p = 1 / (1 + e) is the sigmoid
// of 2|u|, s = sigmoid(2u) is p or e p, and s (1 - s) = e p^2 for either sign.
// (1 + tanhf(u) in fp32 loses ~3 digits at x = -4 and gives 0 below x ~ -9.)
struct TanhTerms {
  float s, s_one_minus_s;
};
__device__ __forceinline__ TanhTerms tanh_terms(float x) {
  const float u = kSqrt2OverPi * (x + kCubic * x * x * x);
  const float e = expf(-2.0f * fabsf(u));
  const float p = 1.0f / (1.0f + e);
  return TanhTerms{u >= 0.0f ? p : e * p, e * p * p};
}

// The exact form uses Phi(x) = 0.5 erfc(-x / sqrt 2), not 0.5 (1 + erf(x / sqrt 2)),
// for the same reason: no cancellation for negative x.
template <gelu_form F>
__device__ __forceinline__ float gelu(float x) {
  if constexpr (F == gelu_form::tanh) return x * tanh_terms(x).s;
  return 0.5f * x * erfcf(-x * kInvSqrt2);
}

// d/dx x s(x) = s + x * 2 s (1 - s) * du/dx, du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
template <gelu_form F>
__device__ __forceinline__ float gelu_grad(float x) {
  if constexpr (F == gelu_form::tanh) {
    const TanhTerms t = tanh_terms(x);
    return t.s + 2.0f * x * t.s_one_minus_s * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
  }
  return 0.5f * erfcf(-x * kInvSqrt2) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
}

// FLOPs per element for the work counters (kcount_flops), as the code above executes: comparisons,
// fabsf and selects are none, a transcendental or a division is one. tanh_terms: u 5, e 2, p 2, and
// e * p 1 when u < 0 (counted always here) and e * p * p 2 for the backward.
template <gelu_form F>
constexpr uint64_t kFwdFlops = F == gelu_form::tanh ? 11 : 4;
template <gelu_form F>
constexpr uint64_t kBwdFlops = F == gelu_form::tanh ? 21 : 10;
