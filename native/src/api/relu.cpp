// ReLU entry points.
#include "../validate.h"

extern "C" {

wpm_status wpm_relu_fwd(wpm_context* context, const wpm_buffer* x, wpm_buffer* out, int64_t n) {
  return wpm::guarded("wpm_relu_fwd", [&] {
    wpm::Checker check("wpm_relu_fwd", context);
    check.elementwise(n, {{"x", x}}, {{"out", out}});
    if (!check.ok()) return check.status();
    return check.backend().relu_fwd(x->data(), out->data(), n, x->dtype);
  });
}

wpm_status wpm_relu_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* x, wpm_buffer* dx, int64_t n) {
  return wpm::guarded("wpm_relu_bwd", [&] {
    wpm::Checker check("wpm_relu_bwd", context);
    check.elementwise(n, {{"dout", dout}, {"x", x}}, {{"dx", dx}});
    if (!check.ok()) return check.status();
    return check.backend().relu_bwd(dout->data(), x->data(), dx->data(), n, dout->dtype);
  });
}

}  // extern "C"
