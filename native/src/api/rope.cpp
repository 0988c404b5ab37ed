// RoPE entry points: the rotation in place on x [B, T, H, D] (forward) or on
// its gradient (backward, the rotation by -angle).
#include "../validate.h"

namespace {

wpm_status rope(const char* function, wpm_context* context, wpm_buffer* x, const wpm_buffer* positions, int64_t b,
                int64_t t, int64_t h, int64_t d, float theta, float sign) {
  wpm::Checker check(function, context);
  check.non_negative("b", b).non_negative("t", t).non_negative("h", h).positive("d", d);
  check.require(d % 2 == 0, "argument 'd' is %lld; it must be even (element i pairs with i + d/2)", (long long)d);
  check.finite("theta", theta).require(theta > 0, "argument 'theta' is %g; it must be positive", double(theta));
  size_t total = check.count("b * t * h * d", {b, t, h, d});
  size_t tokens = check.count("b * t", {b, t});
  check.buffer(sign > 0 ? "x" : "dx", x, total, wpm::kFloatTypes)
      .optional_buffer("positions", positions, tokens, wpm::kI32);
  if (!check.ok()) return check.status();
  const int32_t* pos = positions ? static_cast<const int32_t*>(positions->data()) : nullptr;
  return check.backend().rope(x->data(), pos, b, t, h, d, theta, sign, x->dtype);
}

}  // namespace

extern "C" {

wpm_status wpm_rope_fwd(wpm_context* context, wpm_buffer* x, const wpm_buffer* positions, int64_t b, int64_t t,
                        int64_t h, int64_t d, float theta) {
  return wpm::guarded("wpm_rope_fwd",
                      [&] { return rope("wpm_rope_fwd", context, x, positions, b, t, h, d, theta, 1.0f); });
}

wpm_status wpm_rope_bwd(wpm_context* context, wpm_buffer* dx, const wpm_buffer* positions, int64_t b, int64_t t,
                        int64_t h, int64_t d, float theta) {
  return wpm::guarded("wpm_rope_bwd",
                      [&] { return rope("wpm_rope_bwd", context, dx, positions, b, t, h, d, theta, -1.0f); });
}

}  // extern "C"
