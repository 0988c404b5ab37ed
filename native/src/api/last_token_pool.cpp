// Last-token pooling entry points. The lengths values themselves are checked by
// the backend (they live in device memory); everything else is checked here. The
// parameter struct is turned into the backend's positional call here.
#include "../validate.h"

namespace {

// params, its struct_size, the shape and the padding enum; returns the hidden element
// count (B*T*C; 0 after a failure).
size_t check_shape(wpm::Checker& check, const wpm_last_token_pool_params* params) {
  check.not_null("params", params);
  if (!check.ok()) return 0;
  check.struct_size("params", params->struct_size, sizeof(wpm_last_token_pool_params));
  if (!check.ok()) return 0;  // the fields below may lie past a smaller struct
  const wpm_last_token_pool_params& p = *params;
  check.non_negative("b", p.b).positive("t", p.t).positive("c", p.c);
  check.in_range("padding", p.padding, WPM_PAD_RIGHT, WPM_PAD_LEFT);
  return check.count("b * t * c", {p.b, p.t, p.c});
}

}  // namespace

extern "C" {

wpm_status wpm_last_token_pool_fwd(wpm_context* context, const wpm_last_token_pool_params* params) {
  return wpm::guarded("wpm_last_token_pool_fwd", [&] {
    wpm::Checker check("wpm_last_token_pool_fwd", context);
    size_t total = check_shape(check, params);
    if (!check.ok()) return check.status();
    const wpm_last_token_pool_params& p = *params;
    check.buffer("hidden", p.hidden, total, wpm::kFloatTypes)
        .buffer("lengths", p.lengths, size_t(p.b), wpm::kI32)
        .buffer("out", p.out, size_t(p.b) * size_t(p.c), wpm::kFloatTypes)
        .same_dtype("out", p.out, "hidden", p.hidden)
        .disjoint({"out", p.out, size_t(p.b) * size_t(p.c)},
                  {{"hidden", p.hidden, total}, {"lengths", p.lengths, size_t(p.b)}});
    if (!check.ok()) return check.status();
    return check.backend().last_token_pool_fwd(p.hidden->data(), static_cast<const int32_t*>(p.lengths->data()),
                                               p.out->data(), p.b, p.t, p.c, p.padding, p.hidden->dtype);
  });
}

wpm_status wpm_last_token_pool_bwd(wpm_context* context, const wpm_last_token_pool_params* params) {
  return wpm::guarded("wpm_last_token_pool_bwd", [&] {
    wpm::Checker check("wpm_last_token_pool_bwd", context);
    size_t total = check_shape(check, params);
    if (!check.ok()) return check.status();
    const wpm_last_token_pool_params& p = *params;
    check.buffer("dout", p.dout, size_t(p.b) * size_t(p.c), wpm::kFloatTypes)
        .buffer("lengths", p.lengths, size_t(p.b), wpm::kI32)
        .buffer("dhidden", p.dhidden, total, wpm::kFloatTypes)
        .same_dtype("dhidden", p.dhidden, "dout", p.dout)
        .disjoint({"dhidden", p.dhidden, total},
                  {{"dout", p.dout, size_t(p.b) * size_t(p.c)}, {"lengths", p.lengths, size_t(p.b)}});
    if (!check.ok()) return check.status();
    return check.backend().last_token_pool_bwd(p.dout->data(), static_cast<const int32_t*>(p.lengths->data()),
                                               p.dhidden->data(), p.b, p.t, p.c, p.padding, p.dout->dtype);
  });
}

}  // extern "C"
