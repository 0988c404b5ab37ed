// RMSNorm entry points: out = x * rstd * weight with rstd saved, and its backward
// (dx overwritten, dweight accumulated).
#include "../validate.h"

namespace {

// The shape [n, c]; returns the element count of x.
size_t check_shape(wpm::Checker& check, int64_t n, int64_t c) {
  check.non_negative("n", n).positive("c", c);
  return check.count("n * c", {n, c});
}

}  // namespace

extern "C" {

wpm_status wpm_rmsnorm_fwd(wpm_context* context, const wpm_buffer* x, const wpm_buffer* weight, wpm_buffer* out,
                           wpm_buffer* rstd, int64_t n, int64_t c, float eps) {
  return wpm::guarded("wpm_rmsnorm_fwd", [&] {
    wpm::Checker check("wpm_rmsnorm_fwd", context);
    size_t total = check_shape(check, n, c);
    check.finite("eps", eps).require(eps >= 0, "argument 'eps' is %g; it must not be negative", double(eps));
    check.buffer("x", x, total, wpm::kFloatTypes)
        .buffer("weight", weight, size_t(c), wpm::kFloatTypes)
        .buffer("out", out, total, wpm::kFloatTypes)
        .buffer("rstd", rstd, size_t(n), wpm::kF32)
        .same_dtype("weight", weight, "x", x)
        .same_dtype("out", out, "x", x);
    if (!check.ok()) return check.status();
    return check.backend().rmsnorm_fwd(x->data(), weight->data(), out->data(), static_cast<float*>(rstd->data()), n,
                                       c, eps, x->dtype);
  });
}

wpm_status wpm_rmsnorm_bwd(wpm_context* context, const wpm_buffer* dout, const wpm_buffer* x,
                           const wpm_buffer* weight, const wpm_buffer* rstd, wpm_buffer* dx, wpm_buffer* dweight,
                           int64_t n, int64_t c) {
  return wpm::guarded("wpm_rmsnorm_bwd", [&] {
    wpm::Checker check("wpm_rmsnorm_bwd", context);
    size_t total = check_shape(check, n, c);
    check.buffer("dout", dout, total, wpm::kFloatTypes)
        .buffer("x", x, total, wpm::kFloatTypes)
        .buffer("weight", weight, size_t(c), wpm::kFloatTypes)
        .buffer("rstd", rstd, size_t(n), wpm::kF32)
        .buffer("dx", dx, total, wpm::kFloatTypes)
        .buffer("dweight", dweight, size_t(c), wpm::kFloatTypes)
        .same_dtype("x", x, "dout", dout)
        .same_dtype("weight", weight, "dout", dout)
        .same_dtype("dx", dx, "dout", dout)
        .same_dtype("dweight", dweight, "dout", dout);
    if (!check.ok()) return check.status();
    return check.backend().rmsnorm_bwd(dout->data(), x->data(), weight->data(),
                                       static_cast<const float*>(rstd->data()), dx->data(), dweight->data(), n, c,
                                       dout->dtype);
  });
}

}  // extern "C"
