// Cast entry point: n elements from src to dst, any direction between f32, f16
// and bf16 (round to nearest even).
#include "../validate.h"

extern "C" {

wpm_status wpm_cast(wpm_context* context, const wpm_buffer* src, wpm_buffer* dst, int64_t n) {
  return wpm::guarded("wpm_cast", [&] {
    wpm::Checker check("wpm_cast", context);
    size_t count = check.count("n", {n});
    check.buffer("src", src, count, wpm::kFloatTypes).buffer("dst", dst, count, wpm::kFloatTypes);
    // Within one dtype the cast is a device copy, memmove-like over overlapping views; between
    // dtypes an element written could be one not yet read.
    if (check.ok() && src->dtype != dst->dtype) check.disjoint({"dst", dst, count}, {{"src", src, count}});
    if (!check.ok()) return check.status();
    return check.backend().cast(src->data(), src->dtype, dst->data(), dst->dtype, n);
  });
}

}  // extern "C"
