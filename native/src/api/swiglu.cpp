// SwiGLU entry points: out = silu(gate) * up over n elements, and its backward.
#include "../validate.h"

extern "C" {

wpm_status wpm_swiglu_fwd(wpm_context* context, const wpm_buffer* gate, const wpm_buffer* up, wpm_buffer* out,
                          int64_t n) {
  return wpm::guarded("wpm_swiglu_fwd", [&] {
    wpm::Checker check("wpm_swiglu_fwd", context);
    check.elementwise(n, {{"gate", gate}, {"up", up}}, {{"out", out}});
    if (!check.ok()) return check.status();
    return check.backend().swiglu_fwd(gate->data(), up->data(), out->data(), n, gate->dtype);
  });
}

wpm_status wpm_swiglu_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* gate, const wpm_buffer* up,
                          wpm_buffer* dgate, wpm_buffer* dup, int64_t n) {
  return wpm::guarded("wpm_swiglu_bwd", [&] {
    wpm::Checker check("wpm_swiglu_bwd", context);
    check.elementwise(n, {{"dout", dout}, {"gate", gate}, {"up", up}}, {{"dgate", dgate}, {"dup", dup}});
    if (!check.ok()) return check.status();
    return check.backend().swiglu_bwd(dout->data(), gate->data(), up->data(), dgate->data(), dup->data(), n,
                                      dout->dtype);
  });
}

}  // extern "C"
