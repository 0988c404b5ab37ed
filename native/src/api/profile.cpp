// wpm_context_profile and wpm_context_profile_kernels: the emu backend's work counters per kernel.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "../backend.h"
#include "../validate.h"

namespace {

bool check_profiling(wpm::Checker& check, const wpm_context* context) {
  if (check.ok() && !context->backend->has_kernel_profile())
    check.fail_argument(WPM_ERR_UNSUPPORTED, "context",
                        "is not an emu context: only the emulator counts the kernels' work");
  return check.ok();
}

}  // namespace

wpm_status wpm_context_profile(wpm_context* context, int32_t enable) {
  wpm::Checker check("wpm_context_profile", context);
  if (!check_profiling(check, context)) return check.status();
  return context->backend->kernel_profile_enable(enable != 0);
}

// A caller built against a later header has larger rows: its array's stride is kernels[0].struct_size.
wpm_status wpm_context_profile_kernels(wpm_context* context, wpm_kernel_profile* kernels, size_t capacity,
                                       size_t* count) {
  wpm::Checker check("wpm_context_profile_kernels", context);
  check.not_null("count", count);
  if (capacity > 0) check.not_null("kernels", kernels);
  const size_t stride = check.ok() && capacity > 0 ? kernels->struct_size : 0;
  auto row = [&](size_t i) { return reinterpret_cast<wpm_kernel_profile*>(reinterpret_cast<char*>(kernels) + i * stride); };
  if (check.ok() && capacity > 0) check.struct_size("kernels[0]", stride, sizeof(wpm_kernel_profile));
  for (size_t i = 1; check.ok() && i < capacity; ++i)
    if (row(i)->struct_size != stride)
      check.fail_argument(WPM_ERR_INVALID_ARGUMENT, ("kernels[" + std::to_string(i) + "]").c_str(),
                          "has struct_size %zu where kernels[0] has %zu (every row the same size)",
                          row(i)->struct_size, stride);
  if (!check_profiling(check, context)) return check.status();
  std::vector<wpm_kernel_profile> rows;
  if (wpm_status s = context->backend->kernel_profile(&rows)) return s;
  *count = rows.size();
  for (size_t i = 0; i < std::min(capacity, rows.size()); ++i) {
    rows[i].struct_size = stride;
    std::memcpy(row(i), &rows[i], sizeof(wpm_kernel_profile));
  }
  return WPM_OK;
}
