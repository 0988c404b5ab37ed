// Embedding entry points: gather forward, deterministic scatter-add backward.
// The id values are checked by the backend (they live in device memory);
// everything else is checked here.
#include "../validate.h"

namespace {

// Shapes: returns the element counts of a table [vocab, c] and of rows [n, c].
void check_shape(wpm::Checker& check, int64_t n, int64_t vocab, int64_t c, size_t* table, size_t* rows) {
  check.non_negative("n", n).non_negative("vocab", vocab).non_negative("c", c);
  *table = check.count("vocab * c", {vocab, c});
  *rows = check.count("n * c", {n, c});
}

}  // namespace

extern "C" {

wpm_status wpm_embedding_fwd(wpm_context* context, const wpm_buffer* ids, const wpm_buffer* table, wpm_buffer* out,
                             int64_t n, int64_t vocab, int64_t c) {
  return wpm::guarded("wpm_embedding_fwd", [&] {
    wpm::Checker check("wpm_embedding_fwd", context);
    size_t table_count, rows;
    check_shape(check, n, vocab, c, &table_count, &rows);
    check.buffer("ids", ids, size_t(n), wpm::kI32)
        .buffer("table", table, table_count, wpm::kFloatTypes)
        .buffer("out", out, rows, wpm::kFloatTypes)
        .same_dtype("out", out, "table", table)
        .disjoint({"out", out, rows}, {{"ids", ids, size_t(n)}, {"table", table, table_count}});
    if (!check.ok()) return check.status();
    return check.backend().gather_rows({"wpm_embedding_fwd", "ids", "vocab", static_cast<const int32_t*>(ids->data()),
                                        table->data(), out->data(), n, vocab, c, table->dtype});
  });
}

wpm_status wpm_embedding_bwd(wpm_context* context, const wpm_buffer* ids, const wpm_buffer* dout, wpm_buffer* dtable,
                             int64_t n, int64_t vocab, int64_t c) {
  return wpm::guarded("wpm_embedding_bwd", [&] {
    wpm::Checker check("wpm_embedding_bwd", context);
    size_t table_count, rows;
    check_shape(check, n, vocab, c, &table_count, &rows);
    check.buffer("ids", ids, size_t(n), wpm::kI32)
        .buffer("dout", dout, rows, wpm::kFloatTypes)
        .buffer("dtable", dtable, table_count, wpm::kFloatTypes)
        .same_dtype("dtable", dtable, "dout", dout)
        .disjoint({"dtable", dtable, table_count}, {{"ids", ids, size_t(n)}, {"dout", dout, rows}});
    if (!check.ok()) return check.status();
    return check.backend().scatter_add_rows({"wpm_embedding_bwd", "ids", "vocab",
                                             static_cast<const int32_t*>(ids->data()), dout->data(), dtable->data(), n,
                                             vocab, c, dout->dtype});
  });
}

}  // extern "C"
