// RMSNorm entry points: out = x * rstd * weight with rstd saved, and its backward
// (dx overwritten, dweight accumulated). The parameter struct is turned into the
// backend's positional call here.
#include "../validate.h"

namespace {

// params, its struct_size and the shape [n, c]; returns the element count of x (0 after a failure).
size_t check_shape(wpm::Checker& check, const wpm_rmsnorm_params* params) {
  check.not_null("params", params);
  if (!check.ok()) return 0;
  check.struct_size("params", params->struct_size, sizeof(wpm_rmsnorm_params));
  if (!check.ok()) return 0;  // the fields below may lie past a smaller struct
  check.non_negative("n", params->n).positive("c", params->c);
  return check.count("n * c", {params->n, params->c});
}

}  // namespace

extern "C" {

wpm_status wpm_rmsnorm_fwd(wpm_context* context, const wpm_rmsnorm_params* params) {
  return wpm::guarded("wpm_rmsnorm_fwd", [&] {
    wpm::Checker check("wpm_rmsnorm_fwd", context);
    size_t total = check_shape(check, params);
    if (!check.ok()) return check.status();
    const wpm_rmsnorm_params& p = *params;
    check.finite("eps", p.eps).require(p.eps >= 0, "eps", "is %g; it must not be negative", double(p.eps));
    check.buffer("x", p.x, total, wpm::kFloatTypes)
        .buffer("weight", p.weight, size_t(p.c), wpm::kFloatTypes)
        .buffer("out", p.out, total, wpm::kFloatTypes)
        .buffer("rstd", p.rstd, size_t(p.n), wpm::kF32)
        .same_dtype("weight", p.weight, "x", p.x)
        .same_dtype("out", p.out, "x", p.x)
        .outputs_disjoint({{"out", p.out, total}, {"rstd", p.rstd, size_t(p.n)}},
                          {{"x", p.x, total}, {"weight", p.weight, size_t(p.c)}});
    if (!check.ok()) return check.status();
    return check.backend().rmsnorm_fwd(p.x->data(), p.weight->data(), p.out->data(),
                                       static_cast<float*>(p.rstd->data()), p.n, p.c, p.eps, p.x->dtype);
  });
}

wpm_status wpm_rmsnorm_bwd(wpm_context* context, const wpm_rmsnorm_params* params) {
  return wpm::guarded("wpm_rmsnorm_bwd", [&] {
    wpm::Checker check("wpm_rmsnorm_bwd", context);
    size_t total = check_shape(check, params);
    if (!check.ok()) return check.status();
    const wpm_rmsnorm_params& p = *params;
    check.buffer("dout", p.dout, total, wpm::kFloatTypes)
        .buffer("x", p.x, total, wpm::kFloatTypes)
        .buffer("weight", p.weight, size_t(p.c), wpm::kFloatTypes)
        .buffer("rstd", p.rstd, size_t(p.n), wpm::kF32)
        .buffer("dx", p.dx, total, wpm::kFloatTypes)
        .buffer("dweight", p.dweight, size_t(p.c), wpm::kFloatTypes)
        .same_dtype("x", p.x, "dout", p.dout)
        .same_dtype("weight", p.weight, "dout", p.dout)
        .same_dtype("dx", p.dx, "dout", p.dout)
        .same_dtype("dweight", p.dweight, "dout", p.dout)
        .outputs_disjoint({{"dx", p.dx, total}, {"dweight", p.dweight, size_t(p.c)}},
                          {{"dout", p.dout, total}, {"x", p.x, total}, {"weight", p.weight, size_t(p.c)},
                           {"rstd", p.rstd, size_t(p.n)}});
    if (!check.ok()) return check.status();
    return check.backend().rmsnorm_bwd(p.dout->data(), p.x->data(), p.weight->data(),
                                       static_cast<const float*>(p.rstd->data()), p.dx->data(), p.dweight->data(),
                                       p.n, p.c, p.dout->dtype);
  });
}

}  // extern "C"
