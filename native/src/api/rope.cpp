// RoPE entry points: the rotation in place on x [B, T, H, D] (forward) or on
// its gradient dx (backward, the rotation by -angle). The parameter struct is
// turned into the backend's positional call here.
#include "../validate.h"

namespace {

// The tensor rotated in place: x in the forward, dx in the backward.
struct Rotated {
  const char* name;
  wpm_buffer* wpm_rope_params::*field;
  float sign;
};

wpm_status rope(const char* function, wpm_context* context, const wpm_rope_params* params, const Rotated& rotated) {
  wpm::Checker check(function, context);
  check.not_null("params", params);
  if (!check.ok()) return check.status();
  const wpm_rope_params& p = *params;
  check.struct_size("params", p.struct_size, sizeof(wpm_rope_params));
  if (!check.ok()) return check.status();  // the fields below may lie past a smaller struct
  check.non_negative("b", p.b).non_negative("t", p.t).non_negative("h", p.h).positive("d", p.d);
  check.require(p.d % 2 == 0, "d", "is %lld; it must be even (element i pairs with i + d/2)", (long long)p.d);
  check.finite("theta", p.theta).require(p.theta > 0, "theta", "is %g; it must be positive", double(p.theta));
  size_t total = check.count("b * t * h * d", {p.b, p.t, p.h, p.d});
  size_t tokens = check.count("b * t", {p.b, p.t});
  check.count("h * d", {p.h, p.d});  // a token's row, refused past the limit even when there are no tokens
  wpm_buffer* x = p.*rotated.field;
  check.buffer(rotated.name, x, total, wpm::kFloatTypes)
      .optional_buffer("positions", p.positions, tokens, wpm::kI32)
      .disjoint({rotated.name, x, total}, {{"positions", p.positions, tokens}});
  if (!check.ok()) return check.status();
  if (total == 0) return WPM_OK;  // nothing to rotate: no backend sizes its tables by d for no tokens
  const int32_t* positions = p.positions ? static_cast<const int32_t*>(p.positions->data()) : nullptr;
  return check.backend().rope(x->data(), positions, p.b, p.t, p.h, p.d, p.theta, rotated.sign, x->dtype);
}

}  // namespace

extern "C" {

wpm_status wpm_rope_fwd(wpm_context* context, const wpm_rope_params* params) {
  return wpm::guarded("wpm_rope_fwd",
                      [&] { return rope("wpm_rope_fwd", context, params, {"x", &wpm_rope_params::x, 1.0f}); });
}

wpm_status wpm_rope_bwd(wpm_context* context, const wpm_rope_params* params) {
  return wpm::guarded("wpm_rope_bwd",
                      [&] { return rope("wpm_rope_bwd", context, params, {"dx", &wpm_rope_params::dx, -1.0f}); });
}

}  // extern "C"
