// Row ops by index: wpm_rows_gather (dst[i] = src[index[i]]) and wpm_rows_scatter_add
// (dst[index[i]] += src[i]). The index values are checked by the backend (they live in
// device memory); everything else is checked here. The backends run them as the embedding's
// gather and scatter-add (backend.h, RowsArgs).
#include "../validate.h"

namespace {

struct Counts {
  size_t all, picked;  // elements of the [r, c] tensor and of the [n, c] rows
};

// params, its struct_size and the shape.
Counts check_shape(wpm::Checker& check, const wpm_rows_params* params) {
  check.not_null("params", params);
  if (!check.ok()) return {};
  check.struct_size("params", params->struct_size, sizeof(wpm_rows_params));
  if (!check.ok()) return {};  // the fields below may lie past a smaller struct
  const wpm_rows_params& p = *params;
  check.in_range("n", p.n, 0, INT32_MAX).positive("r", p.r).non_negative("c", p.c);
  return {check.count("r * c", {p.r, p.c}), check.count("n * c", {p.n, p.c})};
}

wpm::RowsArgs args(const char* function, const wpm_rows_params& p) {
  return {function, "index", "r", static_cast<const int32_t*>(p.index->data()), p.src->data(), p.dst->data(),
          p.n, p.r, p.c, p.src->dtype};
}

// The checks both ops share, given which side the source is.
void check_buffers(wpm::Checker& check, const wpm_rows_params& p, size_t src_count, size_t dst_count) {
  check.buffer("index", p.index, size_t(p.n), wpm::kI32)
      .buffer("src", p.src, src_count, wpm::kFloatTypes)
      .buffer("dst", p.dst, dst_count, wpm::kFloatTypes)
      .same_dtype("dst", p.dst, "src", p.src)
      .disjoint({"dst", p.dst, dst_count}, {{"index", p.index, size_t(p.n)}, {"src", p.src, src_count}});
}

}  // namespace

extern "C" {

wpm_status wpm_rows_gather(wpm_context* context, const wpm_rows_params* params) {
  return wpm::guarded("wpm_rows_gather", [&] {
    wpm::Checker check("wpm_rows_gather", context);
    Counts counts = check_shape(check, params);
    if (!check.ok()) return check.status();
    check_buffers(check, *params, counts.all, counts.picked);
    if (!check.ok()) return check.status();
    return check.backend().gather_rows(args("wpm_rows_gather", *params));
  });
}

wpm_status wpm_rows_scatter_add(wpm_context* context, const wpm_rows_params* params) {
  return wpm::guarded("wpm_rows_scatter_add", [&] {
    wpm::Checker check("wpm_rows_scatter_add", context);
    Counts counts = check_shape(check, params);
    if (!check.ok()) return check.status();
    check_buffers(check, *params, counts.picked, counts.all);
    if (!check.ok()) return check.status();
    return check.backend().scatter_add_rows(args("wpm_rows_scatter_add", *params));
  });
}

}  // extern "C"
