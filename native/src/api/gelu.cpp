// GELU entry points (tanh and exact forms).
#include "../validate.h"

namespace {
wpm::Checker& check_kind(wpm::Checker& check, wpm_gelu_kind kind) {
  return check.in_range("kind", kind, WPM_GELU_TANH, WPM_GELU_EXACT);
}
}  // namespace

extern "C" {

wpm_status wpm_gelu_fwd(wpm_context* context, const wpm_buffer* x, wpm_buffer* out, int64_t n, wpm_gelu_kind kind) {
  return wpm::guarded("wpm_gelu_fwd", [&] {
    wpm::Checker check("wpm_gelu_fwd", context);
    check.elementwise(n, {{"x", x}}, {{"out", out}});
    check_kind(check, kind);
    if (!check.ok()) return check.status();
    return check.backend().gelu_fwd(x->data(), out->data(), n, kind, x->dtype);
  });
}

wpm_status wpm_gelu_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* x, wpm_buffer* dx, int64_t n,
                        wpm_gelu_kind kind) {
  return wpm::guarded("wpm_gelu_bwd", [&] {
    wpm::Checker check("wpm_gelu_bwd", context);
    check.elementwise(n, {{"dout", dout}, {"x", x}}, {{"dx", dx}});
    check_kind(check, kind);
    if (!check.ok()) return check.status();
    return check.backend().gelu_bwd(dout->data(), x->data(), dx->data(), n, kind, dout->dtype);
  });
}

}  // extern "C"
