// wpm_last_error_argument(): a failed call names its bad argument as data, spelled as the
// parameter (or parameter-struct field) is spelled in worldpm.h; "" when the error is about
// no single argument; cleared by the next call; per thread.
#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;

struct BadCall {
  const char* what;
  std::function<wpm_status(wpm_context*)> call;
  const char* argument;  // the name in worldpm.h
};

wpm_attention_params attention(const Buffer& q, const Buffer& kv, const Buffer& out, const Buffer& lse) {
  wpm_attention_params p{};
  p.struct_size = sizeof p;
  p.b = 1, p.t = 2, p.h = 2, p.kvh = 1, p.d = 4;
  p.q = q, p.k = kv, p.v = kv, p.out = out, p.lse = lse;
  return p;
}

TEST(ErrorArgument, NamesTheBadArgumentOfManyOpsAsTheHeaderSpellsIt) {
  Context ctx;
  Buffer f8(ctx, WPM_F32, 8), f7(ctx, WPM_F32, 7), f16_8(ctx, WPM_F16, 8), f12(ctx, WPM_F32, 12),
      f16(ctx, WPM_F32, 16), f4(ctx, WPM_F32, 4), f2(ctx, WPM_F32, 2), ids(ctx, WPM_I32, 3), lengths(ctx, WPM_I32, 1),
      table(ctx, WPM_F32, 20), weights(ctx, WPM_F32, 2), loss(ctx, WPM_F32, 1);
  ids.upload_i32({0, 5, 1});  // 5 is outside vocabulary 5
  lengths.upload_i32({0});    // a length must be in 1..T
  weights.upload({1.0f, -1.0f});

  const std::vector<BadCall> cases = {
      {"gelu_fwd: out too small", [&](wpm_context* c) { return wpm_gelu_fwd(c, f8, f7, 8, WPM_GELU_TANH); }, "out"},
      {"gelu_fwd: negative n", [&](wpm_context* c) { return wpm_gelu_fwd(c, f8, f8, -1, WPM_GELU_TANH); }, "n"},
      {"gelu_fwd: NULL context", [&](wpm_context*) { return wpm_gelu_fwd(nullptr, f8, f8, 8, WPM_GELU_TANH); },
       "context"},
      {"swiglu_fwd: out of another dtype", [&](wpm_context* c) { return wpm_swiglu_fwd(c, f8, f8, f16_8, 8); },
       "out"},
      {"gemm: lda shorter than a row",
       [&](wpm_context* c) {
         wpm_gemm_params p{};
         p.struct_size = sizeof p;
         p.m = 2, p.n = 2, p.k = 2, p.batch = 1, p.alpha = 1;
         p.a = f4, p.b = f4, p.c = f4, p.lda = 1;
         return wpm_gemm(c, &p);
       },
       "lda"},
      {"attention_fwd: h not a multiple of kvh",
       [&](wpm_context* c) {
         wpm_attention_params p = attention(f16, f8, f16, f4);
         p.kvh = 3;
         return wpm_attention_fwd(c, &p);
       },
       "h"},
      {"attention_fwd: lse too small",
       [&](wpm_context* c) {
         wpm_attention_params p = attention(f16, f8, f16, f2);
         return wpm_attention_fwd(c, &p);
       },
       "lse"},
      {"embedding_fwd: an id outside the vocabulary",
       [&](wpm_context* c) { return wpm_embedding_fwd(c, ids, table, f12, 3, 5, 4); }, "ids"},
      {"embedding_bwd: vocab * c overflows",
       [&](wpm_context* c) { return wpm_embedding_bwd(c, ids, f12, table, 3, int64_t(1) << 40, int64_t(1) << 40); },
       "vocab * c"},
      {"last_token_pool_fwd: a length of 0",
       [&](wpm_context* c) { return wpm_test::last_token_pool(c, false, f8, lengths, f4, 1, 2, 4, WPM_PAD_RIGHT); },
       "lengths"},
      {"last_token_pool_fwd: NULL params", [&](wpm_context* c) { return wpm_last_token_pool_fwd(c, nullptr); },
       "params"},
      {"last_token_pool_bwd: NULL params", [&](wpm_context* c) { return wpm_last_token_pool_bwd(c, nullptr); },
       "params"},
      {"last_token_pool_fwd: padding 2",
       [&](wpm_context* c) {
         return wpm_test::last_token_pool(c, false, f8, lengths, f4, 1, 2, 4, static_cast<wpm_padding>(2));
       },
       "padding"},
      {"last_token_pool_bwd: c 0",
       [&](wpm_context* c) { return wpm_test::last_token_pool(c, true, f4, lengths, f8, 1, 2, 0, WPM_PAD_LEFT); }, "c"},
      {"last_token_pool_bwd: dhidden too small",
       [&](wpm_context* c) { return wpm_test::last_token_pool(c, true, f4, lengths, f7, 1, 2, 4, WPM_PAD_RIGHT); },
       "dhidden"},
      {"bt_loss_fwd: a negative weight",
       [&](wpm_context* c) {
         wpm_bt_loss_params p{};
         p.struct_size = sizeof p;
         p.pairs = 2, p.chosen = f2, p.rejected = f2, p.weights = weights, p.loss = loss;
         return wpm_bt_loss_fwd(c, &p);
       },
       "weights"},
      {"rope_fwd: NULL params", [&](wpm_context* c) { return wpm_rope_fwd(c, nullptr); }, "params"},
      {"rope_fwd: theta 0", [&](wpm_context* c) { return wpm_test::rope(c, false, f16, nullptr, 1, 2, 2, 4, 0.0f); },
       "theta"},
      {"rope_bwd: NULL dx", [&](wpm_context* c) { return wpm_test::rope(c, true, nullptr, nullptr, 1, 2, 2, 4, 1e4f); },
       "dx"},
      {"rmsnorm_fwd: negative eps",
       [&](wpm_context* c) { return wpm_test::rmsnorm_fwd(c, f8, f4, f8, f2, 2, 4, -1.0f); }, "eps"},
      {"rmsnorm_bwd: dweight too small",
       [&](wpm_context* c) { return wpm_test::rmsnorm_bwd(c, f8, f8, f4, f2, f8, f2, 2, 4); }, "dweight"},
      {"buffer_view: window past the end",
       [&](wpm_context*) {
         wpm_buffer* view = nullptr;
         return wpm_buffer_view(f8, 6, 4, &view);
       },
       "offset"},
      {"context_create: a stream on cpu",
       [&](wpm_context*) {
         int stream_object = 0;
         wpm_context_options options{sizeof options, WPM_BACKEND_CPU, 1, 0, &stream_object};
         wpm_context* created = nullptr;
         return wpm_context_create(&options, &created);
       },
       "options.stream"},
  };
  for (const BadCall& bad : cases) {
    SCOPED_TRACE(bad.what);
    EXPECT_NE(bad.call(ctx), WPM_OK);
    EXPECT_STREQ(wpm_last_error_argument(), bad.argument) << wpm_last_error();
    // The message quotes the same name ('ids[1]' for an entry of ids).
    EXPECT_NE(std::string(wpm_last_error()).find(std::string("'") + bad.argument), std::string::npos)
        << wpm_last_error();
  }
}

TEST(ErrorArgument, ASmallerParameterStructIsRefusedNamingParams) {
  Context ctx;
  Buffer x(ctx, WPM_F32, 16), weight(ctx, WPM_F32, 4), rstd(ctx, WPM_F32, 4);
  wpm_rope_params rope{};
  rope.struct_size = offsetof(wpm_rope_params, dx);  // a struct without its last field
  rope.b = 1, rope.t = 2, rope.h = 2, rope.d = 4, rope.theta = 1e4f, rope.x = x;
  EXPECT_EQ(wpm_rope_fwd(ctx, &rope), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "params") << wpm_last_error();

  wpm_rmsnorm_params norm{};
  norm.struct_size = sizeof(size_t);
  norm.n = 4, norm.c = 4, norm.x = x, norm.weight = weight, norm.out = x, norm.rstd = rstd;
  EXPECT_EQ(wpm_rmsnorm_fwd(ctx, &norm), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "params") << wpm_last_error();
  EXPECT_EQ(wpm_rmsnorm_bwd(ctx, &norm), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "params") << wpm_last_error();

  Buffer hidden(ctx, WPM_F32, 8), lengths(ctx, WPM_I32, 1), out(ctx, WPM_F32, 4);
  lengths.upload_i32({2});
  wpm_last_token_pool_params pool{};
  pool.struct_size = offsetof(wpm_last_token_pool_params, dhidden);  // a struct without its last field
  pool.b = 1, pool.t = 2, pool.c = 4, pool.padding = WPM_PAD_RIGHT;
  pool.lengths = lengths, pool.hidden = hidden, pool.out = out, pool.dout = out, pool.dhidden = hidden;
  EXPECT_EQ(wpm_last_token_pool_fwd(ctx, &pool), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "params") << wpm_last_error();
  EXPECT_EQ(wpm_last_token_pool_bwd(ctx, &pool), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "params") << wpm_last_error();
  pool.struct_size = sizeof pool;  // the same call with the full size goes through
  WPM_ASSERT_OK(wpm_last_token_pool_fwd(ctx, &pool));
}

TEST(ErrorArgument, TheForwardReadsNoBackwardOnlyField) {
  Context ctx;
  Buffer x(ctx, WPM_F32, 16), weight(ctx, WPM_F32, 4), out(ctx, WPM_F32, 16), rstd(ctx, WPM_F32, 4);
  auto* garbage = reinterpret_cast<wpm_buffer*>(uintptr_t(0x10));  // never a live handle
  wpm_rope_params rope{};
  rope.struct_size = sizeof rope;
  rope.b = 1, rope.t = 2, rope.h = 2, rope.d = 4, rope.theta = 1e4f, rope.x = x, rope.dx = garbage;
  WPM_ASSERT_OK(wpm_rope_fwd(ctx, &rope));
  wpm_rmsnorm_params norm{};
  norm.struct_size = sizeof norm;
  norm.n = 4, norm.c = 4, norm.eps = 1e-6f, norm.x = x, norm.weight = weight, norm.out = out, norm.rstd = rstd;
  norm.dout = garbage, norm.dx = garbage, norm.dweight = garbage;
  WPM_ASSERT_OK(wpm_rmsnorm_fwd(ctx, &norm));
  // The backward does read them.
  EXPECT_EQ(wpm_rmsnorm_bwd(ctx, &norm), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "dout") << wpm_last_error();
}

TEST(ErrorArgument, PoolingReadsOnlyTheFieldsOfItsDirection) {
  Context ctx;
  auto* garbage = reinterpret_cast<wpm_buffer*>(uintptr_t(0x10));  // never a live handle
  Buffer hidden(ctx, WPM_F32, 16), lengths(ctx, WPM_I32, 2), pooled(ctx, WPM_F32, 8), dhidden(ctx, WPM_F32, 16);
  lengths.upload_i32({1, 2});
  wpm_last_token_pool_params pool{};
  pool.struct_size = sizeof pool;
  pool.b = 2, pool.t = 2, pool.c = 4, pool.padding = WPM_PAD_RIGHT, pool.lengths = lengths;
  pool.hidden = hidden, pool.out = pooled, pool.dout = garbage, pool.dhidden = garbage;
  WPM_ASSERT_OK(wpm_last_token_pool_fwd(ctx, &pool));
  pool.hidden = garbage, pool.out = garbage, pool.dout = pooled, pool.dhidden = dhidden;
  WPM_ASSERT_OK(wpm_last_token_pool_bwd(ctx, &pool));
  pool.dout = garbage;
  EXPECT_EQ(wpm_last_token_pool_bwd(ctx, &pool), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(wpm_last_error_argument(), "dout") << wpm_last_error();
}

TEST(ErrorArgument, IsEmptyAfterASuccessAndForAFailureAboutNoArgument) {
  Context ctx;
  Buffer x(ctx, WPM_F32, 8);
  EXPECT_EQ(wpm_gelu_fwd(ctx, x, nullptr, 8, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT);
  ASSERT_STREQ(wpm_last_error_argument(), "out");
  WPM_ASSERT_OK(wpm_gelu_fwd(ctx, x, x, 8, WPM_GELU_TANH));
  EXPECT_STREQ(wpm_last_error_argument(), "");
  EXPECT_STREQ(wpm_last_error(), "");

  // A backend that cannot start is not an argument's fault.
  wpm_backend_info info{};
  info.struct_size = sizeof info;
  WPM_ASSERT_OK(wpm_backend_query(WPM_BACKEND_CUDA, &info));
  if (info.available) GTEST_SKIP() << "a CUDA device is visible: no backend here fails to start";
  EXPECT_EQ(wpm_gelu_fwd(ctx, x, nullptr, 8, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT);
  wpm_context_options options{sizeof options, WPM_BACKEND_CUDA, 0, 0, nullptr};
  wpm_context* cuda = nullptr;
  EXPECT_EQ(wpm_context_create(&options, &cuda), WPM_ERR_BACKEND_UNAVAILABLE);
  EXPECT_STRNE(wpm_last_error(), "");
  EXPECT_STREQ(wpm_last_error_argument(), "");
}

TEST(ErrorArgument, IsPerThread) {
  Context ctx;
  Buffer x(ctx, WPM_F32, 8);
  EXPECT_EQ(wpm_gelu_fwd(ctx, x, nullptr, 8, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT);
  std::string other;
  std::thread([&] {
    EXPECT_EQ(wpm_gelu_fwd(ctx, nullptr, x, 8, WPM_GELU_TANH), WPM_ERR_INVALID_ARGUMENT);
    other = wpm_last_error_argument();
  }).join();
  EXPECT_EQ(other, "x");
  EXPECT_STREQ(wpm_last_error_argument(), "out");
}

}  // namespace
