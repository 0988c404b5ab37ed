// Overlapping arguments and array lengths that cannot be sized (worldpm.h, "Overlap"):
// an output sharing bytes with another argument is WPM_ERR_INVALID_ARGUMENT naming
// the output, whether the two come through one handle, two views of one buffer, or a
// wrapped pointer into another buffer; disjoint views of one buffer and exact in-place
// elementwise ops work and give the reference result. On the cpu and emu backends.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backend_param.h"
#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::expect_error;

// A handle over part of another buffer: a view, or a wrapped pointer of another dtype.
class Alias {
 public:
  Alias(wpm_buffer* parent, size_t offset, size_t count) {
    if (wpm_buffer_view(parent, offset, count, &buffer_) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  }
  Alias(wpm_context* ctx, wpm_buffer* parent, size_t byte_offset, wpm_dtype dtype, size_t count) {
    void* base = nullptr;
    if (wpm_buffer_device_pointer(parent, &base) != WPM_OK ||
        wpm_buffer_wrap(ctx, dtype, static_cast<char*>(base) + byte_offset, count, &buffer_) != WPM_OK)
      ADD_FAILURE() << wpm_last_error();
  }
  ~Alias() { wpm_buffer_free(buffer_); }
  Alias(const Alias&) = delete;
  Alias& operator=(const Alias&) = delete;
  operator wpm_buffer*() const { return buffer_; }

 private:
  wpm_buffer* buffer_ = nullptr;
};

class Overlap : public wpm_test::HostBackendTest {
 protected:
  void SetUp() override {
    wpm_test::HostBackendTest::SetUp();
    if (IsSkipped()) return;
    wpm_context_options options{sizeof options, GetParam().kind, 1, 0, nullptr};
    ASSERT_EQ(wpm_context_create(&options, &ctx), WPM_OK) << wpm_last_error();
  }
  void TearDown() override {
    if (ctx != nullptr) wpm_context_destroy(ctx);
  }

  // Expects the call refused, naming `argument` as the one that overlaps.
  static void expect_overlap(wpm_status status, const char* argument) {
    expect_error(status, WPM_ERR_INVALID_ARGUMENT, {"shares memory", (std::string("'") + argument + "'").c_str()});
    EXPECT_STREQ(wpm_last_error_argument(), argument);
  }

  wpm_context* ctx = nullptr;
};

wpm_gemm_params gemm_2x2(const wpm_buffer* a, const wpm_buffer* b, wpm_buffer* c) {
  wpm_gemm_params p{};
  p.struct_size = sizeof p;
  p.m = p.n = p.k = 2, p.batch = 1, p.alpha = 1;
  p.a = a, p.b = b, p.c = c;
  return p;
}

TEST_P(Overlap, GemmOutputOverAnInputIsRefusedThroughAnyHandle) {
  Buffer a(ctx, WPM_F32, {1, 2, 3, 4}), b(ctx, WPM_F32, {5, 6, 7, 8});
  wpm_gemm_params same = gemm_2x2(a, b, a);
  expect_overlap(wpm_gemm(ctx, &same), "c");
  Buffer arena(ctx, WPM_F32, 8);
  Alias lower(arena, 0, 4), shifted(arena, 2, 4);
  wpm_gemm_params views = gemm_2x2(b, lower, shifted);  // C's first row is B's second
  expect_overlap(wpm_gemm(ctx, &views), "c");
  Buffer b8(ctx, WPM_F32, 8);
  Alias wrapped(ctx, b8, 4, WPM_F32, 4);  // b8's elements 1..4 under a second, wrapped handle
  wpm_gemm_params through_wrap = gemm_2x2(a, b8, wrapped);
  expect_overlap(wpm_gemm(ctx, &through_wrap), "c");
  // Strided operands count from their first to their last element: A at elements 0, 1, 4, 5
  // (lda 4) and C at 2, 3, 6, 7 (ldc 4) interleave, so they overlap.
  Buffer wide(ctx, WPM_F32, 8);
  Alias interleaved(wide, 2, 6);
  wpm_gemm_params strided = gemm_2x2(wide, b, interleaved);
  strided.lda = 4, strided.ldc = 4;
  expect_overlap(wpm_gemm(ctx, &strided), "c");
}

TEST_P(Overlap, GemmIntoADisjointViewOfTheInputsBufferComputesTheProduct) {
  Buffer arena(ctx, WPM_F32, {1, 2, 3, 4, -1, -1, -1, -1}), b(ctx, WPM_F32, {5, 6, 7, 8});
  Alias a(arena, 0, 4), c(arena, 4, 4);
  wpm_gemm_params p = gemm_2x2(a, b, c);
  WPM_ASSERT_OK(wpm_gemm(ctx, &p));
  // [1 2; 3 4] [5 6; 7 8] by hand.
  EXPECT_EQ(arena.download(), (std::vector<float>{1, 2, 3, 4, 19, 22, 43, 50}));
}

TEST_P(Overlap, ElementwiseOpsRunExactlyInPlaceButRefuseAPartialOverlap) {
  Buffer x(ctx, WPM_F32, {-1, 2, -3, 4, -5, 6, -7, 8, 0});
  WPM_ASSERT_OK(wpm_relu_fwd(ctx, x, x, 8));
  EXPECT_EQ(x.download(), (std::vector<float>{0, 2, 0, 4, 0, 6, 0, 8, 0}));
  Alias shifted(x, 1, 8);
  expect_overlap(wpm_relu_fwd(ctx, x, shifted, 8), "out");
  expect_overlap(wpm_gelu_bwd(ctx, x, shifted, x, 8, WPM_GELU_TANH), "dx");
  Buffer gate(ctx, WPM_F32, 8), up(ctx, WPM_F32, 8), dout(ctx, WPM_F32, 8), both(ctx, WPM_F32, 9);
  Alias dgate(both, 0, 8), dup(both, 1, 8);
  expect_overlap(wpm_swiglu_bwd(ctx, dout, gate, up, dgate, dup, 8), "dgate");
  // A cast to a narrower dtype over its own source is a partial overlap (2 bytes per element of 4).
  Alias as_f16(ctx, x, 0, WPM_F16, 8);
  expect_overlap(wpm_cast(ctx, x, as_f16, 8), "dst");
}

TEST_P(Overlap, OpOutputsOverInputsOrOtherOutputsAreRefused) {
  Buffer x(ctx, WPM_F32, 8), weight(ctx, WPM_F32, 4), rstd(ctx, WPM_F32, 2);
  Alias rstd_in_weight(weight, 2, 2);
  expect_overlap(wpm_test::rmsnorm_fwd(ctx, x, weight, x, rstd, 2, 4, 1e-6f), "out");
  Buffer out(ctx, WPM_F32, 8);
  expect_overlap(wpm_test::rmsnorm_fwd(ctx, x, weight, out, rstd_in_weight, 2, 4, 1e-6f), "rstd");

  Buffer ids(ctx, WPM_I32, 2), table(ctx, WPM_F32, 16);
  ids.upload_i32({0, 1});
  Alias rows_in_table(table, 8, 8);
  expect_overlap(wpm_embedding_fwd(ctx, ids, table, rows_in_table, 2, 4, 4), "out");

  Buffer q(ctx, WPM_F32, 8), kv(ctx, WPM_F32, 8), lse(ctx, WPM_F32, 2), grads(ctx, WPM_F32, 16);
  wpm_attention_params p{};
  p.struct_size = sizeof p;
  p.b = 1, p.t = 2, p.h = 1, p.kvh = 1, p.d = 4;
  p.q = q, p.k = kv, p.v = kv, p.out = q, p.lse = lse;  // k and v may share: both are inputs
  expect_overlap(wpm_attention_fwd(ctx, &p), "out");
  p.out = out;
  WPM_ASSERT_OK(wpm_attention_fwd(ctx, &p));
  Alias dq(grads, 0, 8), dkv(grads, 8, 8);
  p.dout = x, p.dq = dq, p.dk = dkv, p.dv = dkv;
  expect_overlap(wpm_attention_bwd(ctx, &p), "dk");

  Buffer lengths(ctx, WPM_I32, 1);
  lengths.upload_i32({2});
  Alias pooled_grad(x, 4, 4);
  expect_overlap(wpm_test::last_token_pool(ctx, true, pooled_grad, lengths, x, 1, 2, 4, WPM_PAD_RIGHT), "dhidden");

  Buffer chosen(ctx, WPM_F32, 2), rejected(ctx, WPM_F32, 2), pair_grads(ctx, WPM_F32, 3);
  Alias loss_in_chosen(chosen, 1, 1), dchosen(pair_grads, 0, 2), drejected(pair_grads, 1, 2);
  wpm_bt_loss_params bt{};
  bt.struct_size = sizeof bt;
  bt.pairs = 2, bt.chosen = chosen, bt.rejected = rejected, bt.loss = loss_in_chosen, bt.dloss = 1;
  expect_overlap(wpm_bt_loss_fwd(ctx, &bt), "loss");
  bt.dchosen = dchosen, bt.drejected = drejected;
  expect_overlap(wpm_bt_loss_bwd(ctx, &bt), "dchosen");

  // RoPE rotates x in place, but not over the positions it reads.
  Buffer rotated(ctx, WPM_F32, 8);
  Alias positions(ctx, rotated, 0, WPM_I32, 2);
  expect_overlap(wpm_test::rope(ctx, false, rotated, positions, 1, 2, 1, 4, 1e4f), "x");
}

// AdamW updates params, m and v of each tensor in one pass: no buffer of the step may share
// memory with another, across tensors too.
TEST_P(Overlap, AdamwStateOverParametersOrGradientsIsRefused) {
  Buffer arena(ctx, WPM_F32, 40);
  Alias p0(arena, 0, 4), g0(arena, 4, 4), m0(arena, 8, 4), v0(arena, 12, 4);
  Alias p1(arena, 16, 4), g1(arena, 20, 4), m1(arena, 24, 4), v1(arena, 28, 4), over_p0(arena, 2, 4);
  wpm_buffer* params[] = {p0, p1};
  const wpm_buffer* grads[] = {g0, g1};
  wpm_buffer* m[] = {p0, m1};  // m[0] is params[0]
  wpm_buffer* v[] = {v0, v1};
  wpm_adamw_params p{};
  p.struct_size = sizeof p;
  p.tensors = 2, p.params = params, p.grads = grads, p.m = m, p.v = v;
  p.lr = 1e-3f, p.beta1 = 0.9f, p.beta2 = 0.999f, p.eps = 1e-8f, p.step = 1;
  expect_overlap(wpm_adamw_step(ctx, &p), "m[0]");
  m[0] = m0;
  grads[1] = over_p0;  // tensor 1's gradient over tensor 0's parameters
  expect_overlap(wpm_adamw_step(ctx, &p), "grads[1]");
  grads[1] = g1;
  WPM_ASSERT_OK(wpm_buffer_fill(arena, 0.0));
  WPM_ASSERT_OK(wpm_adamw_step(ctx, &p));  // disjoint views of one arena are fine
}

TEST_P(Overlap, GradientUtilitiesRefuseTensorsOverEachOtherOrTheOutput) {
  Buffer arena(ctx, WPM_F32, 9);
  Alias t0(arena, 0, 4), t1(arena, 4, 4), t1_again(arena, 4, 4), out(arena, 8, 1), out_in_t0(arena, 3, 1);
  const wpm_buffer* twice[] = {t0, t1, t1_again};
  expect_overlap(wpm_global_norm(ctx, twice, 3, out), "tensors[2]");
  wpm_buffer* scaled[] = {t0, t1};
  expect_overlap(wpm_scale_check_finite(ctx, scaled, 2, 1.0f, out_in_t0), "found_inf");
  WPM_ASSERT_OK(wpm_buffer_fill(arena, 1.0));
  WPM_ASSERT_OK(wpm_global_norm(ctx, twice, 2, out));
  EXPECT_NEAR(arena.download()[8], std::sqrt(8.0), 1e-6);  // eight ones
}

// A handle-array length whose std::vector cannot be made is an invalid argument, not an internal error.
TEST_P(Overlap, HugeTensorCountsAreInvalidArgumentsNamingThem) {
  Buffer t(ctx, WPM_F32, 4), out(ctx, WPM_F32, 1);
  wpm_buffer* one[] = {t};
  const wpm_buffer* read_only[] = {t};
  for (int64_t huge : {INT64_MAX, int64_t(1) << 40, (int64_t(1) << 24) + 1}) {
    SCOPED_TRACE(huge);
    expect_error(wpm_global_norm(ctx, read_only, huge, out), WPM_ERR_INVALID_ARGUMENT, "'count'");
    EXPECT_STREQ(wpm_last_error_argument(), "count");
    expect_error(wpm_scale_check_finite(ctx, one, huge, 1.0f, out), WPM_ERR_INVALID_ARGUMENT, "'count'");
    EXPECT_STREQ(wpm_last_error_argument(), "count");
    wpm_adamw_params p{};
    p.struct_size = sizeof p;
    p.tensors = huge, p.params = one, p.grads = read_only, p.m = one, p.v = one;
    p.lr = 1e-3f, p.beta1 = 0.9f, p.beta2 = 0.999f, p.eps = 1e-8f, p.step = 1;
    expect_error(wpm_adamw_step(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'tensors'");
    EXPECT_STREQ(wpm_last_error_argument(), "tensors");
  }
}

WPM_INSTANTIATE_HOST_BACKENDS(Overlap);

}  // namespace
