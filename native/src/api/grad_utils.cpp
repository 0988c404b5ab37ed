// Gradient utility entry points: global L2 norm and scale-and-check-finite.
// Each tensor is named by its index in messages ('tensors[3]'). The tensors of
// one call and the output must not overlap one another in memory (an overlap
// would count, or scale, its elements twice).
#include <cstdio>
#include <string>
#include <vector>

#include "../validate.h"

namespace {

// Every tensors[i] a live float buffer of this context (any count, even 0), then the f32 [1]
// output; none of them sharing memory.
std::vector<wpm::TensorRef> check_tensors(wpm::Checker& check, const wpm_buffer* const* tensors, int64_t count,
                                          const char* output_name, const wpm_buffer* output) {
  std::vector<wpm::TensorRef> refs;
  check.in_range("count", count, 0, wpm::kMaxHandleArray);
  if (count > 0) check.not_null("tensors", tensors);
  if (!check.ok()) return refs;
  refs.resize(size_t(count));
  for (int64_t i = 0; i < count && check.ok(); ++i) {
    char name[40];
    std::snprintf(name, sizeof name, "tensors[%lld]", (long long)i);
    const wpm_buffer* t = tensors[i];
    check.buffer(name, t, 0, wpm::kFloatTypes);
    if (check.ok()) refs[size_t(i)] = {t->data(), int64_t(t->count), t->dtype};
  }
  check.buffer(output_name, output, 1, wpm::kF32);
  if (!check.ok()) return refs;
  std::vector<std::string> names(static_cast<size_t>(count));
  std::vector<wpm::Checker::Span> spans;
  for (int64_t i = 0; i < count; ++i) {
    names[size_t(i)] = "tensors[" + std::to_string(i) + "]";
    spans.push_back({names[size_t(i)].c_str(), tensors[i], tensors[i]->count});
  }
  spans.push_back({output_name, output, 1});
  check.all_disjoint(spans);
  return refs;
}

}  // namespace

extern "C" {

wpm_status wpm_global_norm(wpm_context* context, const wpm_buffer* const* tensors, int64_t count, wpm_buffer* out) {
  return wpm::guarded("wpm_global_norm", [&] {
    wpm::Checker check("wpm_global_norm", context);
    std::vector<wpm::TensorRef> refs = check_tensors(check, tensors, count, "out", out);
    if (!check.ok()) return check.status();
    return check.backend().global_norm(refs.data(), count, static_cast<float*>(out->data()));
  });
}

wpm_status wpm_scale_check_finite(wpm_context* context, wpm_buffer* const* tensors, int64_t count, float scale,
                                  wpm_buffer* found_inf) {
  return wpm::guarded("wpm_scale_check_finite", [&] {
    wpm::Checker check("wpm_scale_check_finite", context);
    std::vector<wpm::TensorRef> refs = check_tensors(check, tensors, count, "found_inf", found_inf);
    check.finite("scale", scale);
    if (!check.ok()) return check.status();
    return check.backend().scale_check_finite(refs.data(), count, scale, static_cast<float*>(found_inf->data()));
  });
}

}  // extern "C"
