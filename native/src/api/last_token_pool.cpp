// Last-token pooling entry points. The lengths values themselves are checked by
// the backend (they live in device memory); everything else is checked here.
#include "../validate.h"

namespace {

// Shapes and the padding enum; returns the hidden element count (B*T*C).
size_t check_shape(wpm::Checker& check, int64_t b, int64_t t, int64_t c, wpm_padding padding) {
  check.non_negative("b", b).positive("t", t).positive("c", c);
  check.in_range("padding", padding, WPM_PAD_RIGHT, WPM_PAD_LEFT);
  return check.count("b * t * c", {b, t, c});
}

}  // namespace

extern "C" {

wpm_status wpm_last_token_pool_fwd(wpm_context* context, const wpm_buffer* hidden, const wpm_buffer* lengths,
                                   wpm_buffer* out, int64_t b, int64_t t, int64_t c, wpm_padding padding) {
  return wpm::guarded("wpm_last_token_pool_fwd", [&] {
    wpm::Checker check("wpm_last_token_pool_fwd", context);
    size_t total = check_shape(check, b, t, c, padding);
    check.buffer("hidden", hidden, total, wpm::kFloatTypes)
        .buffer("lengths", lengths, size_t(b), wpm::kI32)
        .buffer("out", out, size_t(b) * size_t(c), wpm::kFloatTypes)
        .same_dtype("out", out, "hidden", hidden);
    if (!check.ok()) return check.status();
    return check.backend().last_token_pool_fwd(hidden->data(), static_cast<const int32_t*>(lengths->data()),
                                               out->data(), b, t, c, padding, hidden->dtype);
  });
}

wpm_status wpm_last_token_pool_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* lengths,
                                   wpm_buffer* dhidden, int64_t b, int64_t t, int64_t c, wpm_padding padding) {
  return wpm::guarded("wpm_last_token_pool_bwd", [&] {
    wpm::Checker check("wpm_last_token_pool_bwd", context);
    size_t total = check_shape(check, b, t, c, padding);
    check.buffer("dout", dout, size_t(b) * size_t(c), wpm::kFloatTypes)
        .buffer("lengths", lengths, size_t(b), wpm::kI32)
        .buffer("dhidden", dhidden, total, wpm::kFloatTypes)
        .same_dtype("dhidden", dhidden, "dout", dout);
    if (!check.ok()) return check.status();
    return check.backend().last_token_pool_bwd(dout->data(), static_cast<const int32_t*>(lengths->data()),
                                               dhidden->data(), b, t, c, padding, dout->dtype);
  });
}

}  // extern "C"
