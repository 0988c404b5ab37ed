// ReLU entry points.
#include "../validate.h"

extern "C" {

wpm_status wpm_relu_fwd(wpm_context* context, const wpm_buffer* x, wpm_buffer* out, int64_t n) {
  return wpm::guarded("wpm_relu_fwd", [&] {
    wpm::Checker check("wpm_relu_fwd", context);
    size_t count = check.count("n", {n});
    check.buffer("x", x, count, wpm::kFloatTypes)
        .buffer("out", out, count, wpm::kFloatTypes)
        .same_dtype("out", out, "x", x);
    if (!check.ok()) return check.status();
    return check.backend().relu_fwd(x->data(), out->data(), n, x->dtype);
  });
}

wpm_status wpm_relu_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* x, wpm_buffer* dx, int64_t n) {
  return wpm::guarded("wpm_relu_bwd", [&] {
    wpm::Checker check("wpm_relu_bwd", context);
    size_t count = check.count("n", {n});
    check.buffer("dout", dout, count, wpm::kFloatTypes)
        .buffer("x", x, count, wpm::kFloatTypes)
        .buffer("dx", dx, count, wpm::kFloatTypes)
        .same_dtype("x", x, "dout", dout)
        .same_dtype("dx", dx, "dout", dout);
    if (!check.ok()) return check.status();
    return check.backend().relu_bwd(dout->data(), x->data(), dx->data(), n, dout->dtype);
  });
}

}  // extern "C"
