// AdamW on the CPU: one multi-tensor step, one pass over each tensor.
//
// Per element (fp32 master param p, fp32 moments m, v; grad in f32/f16/bf16):
//   g = grad * grad_scale
//   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   p -= lr (m / bc1 / (sqrt(v / bc2) + eps) + wd p)      bc_k = 1 - b_k^step
//   working = p cast to its dtype (when the tensor has a working copy)
// The decay term uses p before this step's update (decoupled weight decay;
// the same as PyTorch's p *= 1 - lr wd followed by the Adam update).
// With grad_check {inf/NaN flag, norm of the stored gradients}: a set flag
// leaves everything as it was; otherwise grad_scale is multiplied by the clip
// min(1, max_grad_norm / (norm * grad_scale + 1e-6)), in double (the device
// kernel forms the same factor). With step_values, lr and the two 1/bc_k are
// read from that buffer instead of formed from the by-value lr and step.
//
// Each tensor is split over the pool in chunks of at least kMinChunk elements,
// so small tensors (biases, norms) run inline on the calling thread and the
// large ones use every core. The inner loop is templated on the grad and
// working dtypes so it is branch-free and, for f32, vectorised.
#include <cmath>

#include "cpu_backend.h"

namespace wpm {

namespace {

constexpr int64_t kMinChunk = 1 << 14;

struct StepConstants {
  float lr, beta1, beta2, one_minus_beta1, one_minus_beta2, inv_bc1, inv_bc2, eps, grad_scale;
};

template <class G, class W, bool kHasWorking>
void adamw_range(const AdamwTensor& t, const StepConstants& k, float decay, int64_t begin, int64_t end) {
  const G* grad = static_cast<const G*>(t.grad);
  float* __restrict p = t.param;
  float* __restrict m = t.m;
  float* __restrict v = t.v;
  W* __restrict working = static_cast<W*>(t.working);
  for (int64_t i = begin; i < end; ++i) {
    float g = load(grad, i) * k.grad_scale;
    float mi = k.beta1 * m[i] + k.one_minus_beta1 * g;
    float vi = k.beta2 * v[i] + k.one_minus_beta2 * g * g;
    float pi = p[i];
    pi -= k.lr * (mi * k.inv_bc1 / (std::sqrt(vi * k.inv_bc2) + k.eps) + decay * pi);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
    if (kHasWorking) store(working, i, pi);
  }
}

StepConstants step_constants(const AdamwArgs& a) {
  StepConstants k;
  if (a.step_values != nullptr) {  // the caller's {lr, 1/bc1, 1/bc2}, in backend (here host) memory
    k.lr = a.step_values[0];
    k.inv_bc1 = a.step_values[1];
    k.inv_bc2 = a.step_values[2];
  } else {
    // Bias corrections in double: b^step for a large step underflows gracefully to 0.
    k.lr = a.lr;
    k.inv_bc1 = float(1.0 / (1.0 - std::pow(double(a.beta1), double(a.step))));
    k.inv_bc2 = float(1.0 / (1.0 - std::pow(double(a.beta2), double(a.step))));
  }
  k.beta1 = a.beta1;
  k.beta2 = a.beta2;
  k.one_minus_beta1 = 1.0f - a.beta1;
  k.one_minus_beta2 = 1.0f - a.beta2;
  k.eps = a.eps;
  k.grad_scale = a.grad_scale;
  return k;
}

// The typed loop for this tensor's (grad dtype, working dtype) pair.
template <class G>
void adamw_tensor_range(const AdamwTensor& t, const StepConstants& k, float decay, int64_t begin, int64_t end) {
  if (t.working == nullptr) {
    adamw_range<G, float, false>(t, k, decay, begin, end);
    return;
  }
  dispatch_float(t.working_dtype, [&](auto working_tag) {
    adamw_range<G, decltype(working_tag), true>(t, k, decay, begin, end);
    return WPM_OK;
  });
}

// False when grad_check says skip; else *grad_scale is the checked step's gradient factor.
bool checked_grad_scale(const AdamwArgs& a, float* grad_scale) {
  *grad_scale = a.grad_scale;
  if (a.grad_check == nullptr) return true;
  if (a.grad_check[0] != 0.0f) return false;
  const double norm = double(a.grad_check[1]) * double(a.grad_scale);
  const double clip =
      a.max_grad_norm > 0.0f && norm > double(a.max_grad_norm) ? double(a.max_grad_norm) / (norm + 1e-6) : 1.0;
  *grad_scale = float(clip * double(a.grad_scale));
  return true;
}

}  // namespace

wpm_status CpuBackend::adamw_step(const AdamwArgs& args) {
  StepConstants k = step_constants(args);
  if (!checked_grad_scale(args, &k.grad_scale)) return WPM_OK;
  for (int64_t ti = 0; ti < args.count; ++ti) {
    const AdamwTensor& t = args.tensors[ti];
    const float decay = t.decay ? args.weight_decay : 0.0f;
    pool_.parallel_for(t.count, kMinChunk, [&](int64_t begin, int64_t end, int) {
      dispatch_float(t.grad_dtype, [&](auto grad_tag) {
        adamw_tensor_range<decltype(grad_tag)>(t, k, decay, begin, end);
        return WPM_OK;
      });
    });
  }
  return WPM_OK;
}

}  // namespace wpm
