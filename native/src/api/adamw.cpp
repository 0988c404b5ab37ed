// AdamW entry point: validates the hyper-parameters and every tensor of the
// step (naming the index: 'grads[3]'), then hands the backend one flat list.
// No two of the step's buffers (every tensor's params, grads, m, v, working) may
// share memory: each is read and written in one pass, tensor by tensor.
// grad_check and step_values, when given, are only read, by the step itself on the
// stream, so the host never waits for the norm or the inf/NaN flag, and a recorded
// step reads each replay's lr and bias corrections.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../validate.h"

namespace {

// sizeof(wpm_adamw_params) in ABI 0.5, before `grad_check` and `max_grad_norm` were added.
constexpr size_t kAdamwParamsV05 = offsetof(wpm_adamw_params, grad_check);

// Indexed argument names ("grads[3]") for the Checker, which takes a const char*.
struct IndexedName {
  char text[48];
  IndexedName(const char* array, int64_t index) {
    std::snprintf(text, sizeof text, "%s[%lld]", array, (long long)index);
  }
};

void check_hyper(wpm::Checker& check, const wpm_adamw_params& p) {
  if (p.step_values == nullptr)  // else lr and step come from the device and these fields are not read
    check.finite("lr", p.lr)
        .require(p.lr >= 0, "lr", "is %g; it must not be negative", double(p.lr))
        .positive("step", p.step);
  check.require(p.beta1 >= 0 && p.beta1 < 1, "beta1", "is %g; expected 0 <= beta1 < 1", double(p.beta1))
      .require(p.beta2 >= 0 && p.beta2 < 1, "beta2", "is %g; expected 0 <= beta2 < 1", double(p.beta2))
      .finite("eps", p.eps)
      .require(p.eps > 0, "eps", "is %g; it must be positive", double(p.eps))
      .finite("weight_decay", p.weight_decay)
      .require(p.weight_decay >= 0, "weight_decay", "is %g; it must not be negative", double(p.weight_decay))
      .finite("grad_scale", p.grad_scale)
      .require(p.grad_scale >= 0, "grad_scale", "is %g; it must not be negative (0 means 1)",
               double(p.grad_scale))
      .finite("max_grad_norm", p.max_grad_norm)
      .require(p.max_grad_norm >= 0, "max_grad_norm", "is %g; it must not be negative (0: no clipping)",
               double(p.max_grad_norm));
  if (p.grad_check != nullptr) check.buffer("grad_check", p.grad_check, 2, wpm::kF32);
  if (p.step_values != nullptr) check.buffer("step_values", p.step_values, 3, wpm::kF32);
}

// Tensor i: params[i] defines the count; grads/m/v/working[i] hold at least that many.
wpm::AdamwTensor check_tensor(wpm::Checker& check, const wpm_adamw_params& p, int64_t i) {
  wpm::AdamwTensor t{};
  const wpm_buffer* param = p.params[i];
  check.buffer(IndexedName("params", i).text, param, 0, wpm::kF32);
  if (!check.ok()) return t;
  const size_t count = param->count;
  const wpm_buffer* grad = p.grads[i];
  const wpm_buffer* m = p.m[i];
  const wpm_buffer* v = p.v[i];
  const wpm_buffer* working = p.working ? p.working[i] : nullptr;
  check.buffer(IndexedName("grads", i).text, grad, count, wpm::kFloatTypes)
      .buffer(IndexedName("m", i).text, m, count, wpm::kF32)
      .buffer(IndexedName("v", i).text, v, count, wpm::kF32)
      .optional_buffer(IndexedName("working", i).text, working, count, wpm::kFloatTypes);
  if (!check.ok()) return t;
  t.param = static_cast<float*>(param->data());
  t.grad = grad->data();
  t.m = static_cast<float*>(m->data());
  t.v = static_cast<float*>(v->data());
  t.working = working ? working->data() : nullptr;
  t.count = int64_t(count);
  t.grad_dtype = grad->dtype;
  t.working_dtype = working ? working->dtype : WPM_F32;
  t.decay = p.decay == nullptr || p.decay[i] != 0;
  return t;
}

// Every buffer of the step, over the elements the step touches (params[i]'s count), in argument order.
void check_disjoint(wpm::Checker& check, const wpm_adamw_params& p) {
  if (!check.ok()) return;
  const char* arrays[] = {"params", "grads", "m", "v", "working"};
  std::vector<std::string> names;
  std::vector<wpm::Checker::Span> spans;
  names.reserve(size_t(p.tensors) * 5);  // the spans point into names: no reallocation
  for (int64_t i = 0; i < p.tensors; ++i) {
    const wpm_buffer* buffers[] = {p.params[i], p.grads[i], p.m[i], p.v[i], p.working ? p.working[i] : nullptr};
    for (int a = 0; a < 5; ++a) {
      names.push_back(IndexedName(arrays[a], i).text);
      spans.push_back({names.back().c_str(), buffers[a], p.params[i]->count});
    }
  }
  if (p.grad_check != nullptr) spans.push_back({"grad_check", p.grad_check, 2});
  if (p.step_values != nullptr) spans.push_back({"step_values", p.step_values, 3});
  check.all_disjoint(spans);
}

}  // namespace

extern "C" {

wpm_status wpm_adamw_step(wpm_context* context, const wpm_adamw_params* params) {
  return wpm::guarded("wpm_adamw_step", [&] {
    wpm::Checker check("wpm_adamw_step", context);
    check.not_null("params", params);
    if (!check.ok()) return check.status();
    check.struct_size("params", params->struct_size, kAdamwParamsV05);
    if (!check.ok()) return check.status();
    // Callers built against 0.5 have no `grad_check` or `max_grad_norm`, those against 0.6 no `step_values`: read
    // only the bytes they declare (the rest stays zero: NULL).
    wpm_adamw_params p{};
    std::memcpy(&p, params, std::min(params->struct_size, sizeof(wpm_adamw_params)));
    check.in_range("tensors", p.tensors, 0, wpm::kMaxHandleArray);
    if (p.tensors > 0)  // the arrays; "params->params" tells the array from the struct
      check.not_null("params->params", p.params).not_null("grads", p.grads).not_null("m", p.m).not_null("v", p.v);
    check_hyper(check, p);
    if (!check.ok()) return check.status();
    std::vector<wpm::AdamwTensor> tensors(size_t(p.tensors));
    for (int64_t i = 0; i < p.tensors && check.ok(); ++i) tensors[size_t(i)] = check_tensor(check, p, i);
    check_disjoint(check, p);
    if (!check.ok()) return check.status();
    wpm::AdamwArgs args;
    args.tensors = tensors.data();
    args.count = p.tensors;
    args.lr = p.lr;
    args.beta1 = p.beta1;
    args.beta2 = p.beta2;
    args.eps = p.eps;
    args.weight_decay = p.weight_decay;
    args.grad_scale = p.grad_scale == 0 ? 1.0f : p.grad_scale;
    args.step = p.step_values ? 1 : p.step;  // with step_values the backends read the device's
    args.grad_check = p.grad_check ? static_cast<const float*>(p.grad_check->data()) : nullptr;
    args.max_grad_norm = p.max_grad_norm;
    args.step_values = p.step_values ? static_cast<const float*>(p.step_values->data()) : nullptr;
    return check.backend().adamw_step(args);
  });
}

}  // extern "C"
