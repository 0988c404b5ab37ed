// GEMM entry point: C[i] = alpha op(A[i]) op(B[i]) + beta C[i], row-major, batched.
// Resolves tight leading dimensions (0) and checks that every batch item of
// every operand lies inside its buffer, overflow-safe, before the backend runs.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "../validate.h"

namespace {

// sizeof(wpm_gemm_params) in ABI 0.4, before `row_invariant` was added.
constexpr size_t kGemmParamsV04 = offsetof(wpm_gemm_params, row_invariant);

// One operand as stored: rows x cols with row stride ld, batch items stride apart.
struct Operand {
  const char* name;     // "a", "b", "c"
  const char* ld_name;  // "lda", ...
  const char* stride_name;
  const wpm_buffer* buffer;
  int64_t rows, cols, ld, stride;
};

// Elements from the first to one past the last element of the last batch item:
// (batch - 1) * stride + (rows - 1) * ld + cols. Returns false on overflow.
bool span(const Operand& op, int64_t batch, size_t* elements) {
  int64_t last_item, last_row, total;
  if (__builtin_mul_overflow(batch - 1, op.stride, &last_item) ||
      __builtin_mul_overflow(op.rows - 1, op.ld, &last_row) || __builtin_add_overflow(last_item, last_row, &total) ||
      __builtin_add_overflow(total, op.cols, &total))
    return false;
  *elements = size_t(total);
  return true;
}

// Returns the elements the operand spans (0 after a failure).
size_t check_operand(wpm::Checker& check, const Operand& op, int64_t batch) {
  check.non_negative(op.ld_name, op.ld).non_negative(op.stride_name, op.stride);
  check.require(op.ld >= op.cols, op.ld_name, "is %lld; it must be at least %lld, the row length of %s as stored",
                (long long)op.ld, (long long)op.cols, op.name);
  size_t needed = 0;
  if (check.ok() && !span(op, batch, &needed))
    check.fail_argument(WPM_ERR_INVALID_ARGUMENT, op.ld_name, "and '%s' make %s span more than 2^63 elements",
                        op.stride_name, op.name);
  check.buffer(op.name, op.buffer, needed, wpm::kFloatTypes);
  return check.ok() ? needed : 0;
}

}  // namespace

extern "C" {

wpm_status wpm_gemm(wpm_context* context, const wpm_gemm_params* params) {
  return wpm::guarded("wpm_gemm", [&] {
    wpm::Checker check("wpm_gemm", context);
    check.not_null("params", params);
    if (!check.ok()) return check.status();
    check.struct_size("params", params->struct_size, kGemmParamsV04);
    if (!check.ok()) return check.status();  // the fields below may lie past a smaller struct
    // Callers built against 0.4 have no `row_invariant` field: read only the bytes they declare.
    wpm_gemm_params p{};
    std::memcpy(&p, params, std::min(params->struct_size, sizeof(wpm_gemm_params)));
    check.in_range("row_invariant", p.row_invariant, 0, 1);
    check.in_range("trans_a", p.trans_a, 0, 1).in_range("trans_b", p.trans_b, 0, 1);
    check.positive("m", p.m).positive("n", p.n).positive("k", p.k).positive("batch", p.batch);
    check.finite("alpha", p.alpha).finite("beta", p.beta);
    if (!check.ok()) return check.status();

    // Stored shapes: A is M x K (K x M transposed), B is K x N (N x K), C is M x N; 0 means tight.
    int64_t a_rows = p.trans_a ? p.k : p.m, a_cols = p.trans_a ? p.m : p.k;
    int64_t b_rows = p.trans_b ? p.n : p.k, b_cols = p.trans_b ? p.k : p.n;
    Operand a{"a", "lda", "stride_a", p.a, a_rows, a_cols, p.lda == 0 ? a_cols : p.lda, p.stride_a};
    Operand b{"b", "ldb", "stride_b", p.b, b_rows, b_cols, p.ldb == 0 ? b_cols : p.ldb, p.stride_b};
    Operand c{"c", "ldc", "stride_c", p.c, p.m, p.n, p.ldc == 0 ? p.n : p.ldc, p.stride_c};
    const size_t a_span = check_operand(check, a, p.batch);
    const size_t b_span = check_operand(check, b, p.batch);
    const size_t c_span = check_operand(check, c, p.batch);
    check.same_dtype("b", p.b, "a", p.a).same_dtype("c", p.c, "a", p.a);
    // C is written while A and B are still read (by whole tiles): no byte of C may be one of theirs.
    check.disjoint({"c", p.c, c_span}, {{"a", p.a, a_span}, {"b", p.b, b_span}});
    // A and B may repeat across the batch (stride 0 broadcasts); C items must not overlap.
    if (p.batch > 1 && check.ok())  // the spans above fit, so this cannot overflow
      check.require(p.stride_c >= (c.rows - 1) * c.ld + c.cols,
                    "stride_c", "is %lld; batch items of C would overlap (it must be at least %lld)",
                    (long long)p.stride_c, (long long)((c.rows - 1) * c.ld + c.cols));
    if (!check.ok()) return check.status();

    wpm::GemmArgs args{p.trans_a != 0, p.trans_b != 0, p.m, p.n, p.k, p.batch, p.alpha, p.beta,
                       p.a->data(), p.b->data(), p.c->data(), a.ld, b.ld, c.ld,
                       p.stride_a, p.stride_b, p.stride_c, p.a->dtype, p.row_invariant != 0};
    return check.backend().gemm(args);
  });
}

}  // extern "C"
