// worldpm_bench: times the reference workloads W1-W3 of the benchmark issue on
// a backend through the C ABI, next to this machine's ceilings measured in the
// same run (memory copy GB/s and sgemm 2048^3 GFLOP/s through the same BLAS).
//
//   worldpm_bench [--reps N] [--threads N] [--quick]
//
// Reports median and min over repetitions after one warm-up, fresh random
// inputs (never zeros), and each result as a fraction of its ceiling.
//
// `worldpm bench` (src/WorldPM/Benchmarks, C#) runs the same W1-W3 with the same shapes and counts, plus
// W4-W5 (a training step and scoring through RewardModel/Trainer), on any backend; this runner is for
// native-only use (no .NET) and the two should agree.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "check.h"
#include "worldpm.h"

namespace {

#define CHECK(expr) wpm_bench::check((expr), "worldpm_bench", #expr)

struct Timing { double median_ms, min_ms; };

Timing time_it(int reps, const std::function<void()>& setup, const std::function<void()>& body) {
  setup();
  body();  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    setup();
    auto start = std::chrono::steady_clock::now();
    body();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

struct Buf {
  wpm_buffer* b = nullptr;
  Buf(wpm_context* ctx, wpm_dtype dtype, size_t n) { CHECK(wpm_buffer_alloc(ctx, dtype, n, &b)); }
  ~Buf() { wpm_buffer_free(b); }
  operator wpm_buffer*() const { return b; }
};

void row(const char* id, const char* metric, Timing t, double amount, const char* unit, double ceiling) {
  double rate = amount / (t.median_ms * 1e-3);
  std::printf("%-4s %-26s %10.3f %10.3f %10.2f %-7s %6.1f%%\n", id, metric, t.median_ms, t.min_ms, rate, unit,
              100.0 * rate / ceiling);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7, threads = 0;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else { std::fprintf(stderr, "usage: worldpm_bench [--reps N] [--threads N] [--quick]\n"); return 2; }
  }
  if (quick) reps = 1;
  int32_t nthreads = 0;
  wpm_backend_info info;
  wpm_context* ctx = wpm_bench::open_cpu_context("worldpm_bench", threads, &nthreads, &info);
  std::printf("worldpm %s, cpu backend, %d threads\n%s\n", wpm_version_string(), nthreads, info.reason);
  uint64_t seed = 1;

  // ---- ceilings
  const size_t copy_n = quick ? (1u << 20) : (64u << 20);  // floats: 256 MiB each way
  Buf csrc(ctx, WPM_F32, copy_n), cdst(ctx, WPM_F32, copy_n);
  CHECK(wpm_fill_uniform(csrc, seed++, -1, 1));
  Timing copy = time_it(reps, [] {}, [&] { CHECK(wpm_buffer_copy(cdst, csrc)); });
  double copy_gbs = 2.0 * copy_n * 4 / (copy.median_ms * 1e-3) / 1e9;

  const int64_t g = quick ? 256 : 2048;
  Buf ga(ctx, WPM_F32, g * g), gb(ctx, WPM_F32, g * g), gc(ctx, WPM_F32, g * g);
  wpm_gemm_params gp{sizeof gp};
  gp.m = gp.n = gp.k = g;
  gp.batch = 1;
  gp.alpha = 1;
  gp.a = ga; gp.b = gb; gp.c = gc;
  Timing gemm = time_it(reps, [&] { CHECK(wpm_fill_uniform(ga, seed++, -1, 1)); CHECK(wpm_fill_uniform(gb, seed++, -1, 1)); },
                        [&] { CHECK(wpm_gemm(ctx, &gp)); });
  double gemm_gflops = 2.0 * g * g * g / (gemm.median_ms * 1e-3) / 1e9;
  std::printf("ceiling copy: %.2f GB/s (bytes read + written)   sgemm %lld^3: %.1f GFLOP/s\n\n", copy_gbs,
              (long long)g, gemm_gflops);
  std::printf("%-4s %-26s %10s %10s %10s %-7s %7s\n", "id", "metric", "median ms", "min ms", "rate", "unit",
              "of ceil");

  // ---- W1: GELU tanh 4096 x 2048
  const int64_t n1 = quick ? (1 << 16) : 4096 * 2048;
  Buf x1(ctx, WPM_F32, n1), y1(ctx, WPM_F32, n1), dy1(ctx, WPM_F32, n1), dx1(ctx, WPM_F32, n1);
  auto w1_setup = [&] { CHECK(wpm_fill_normal(x1, seed++, 0, 1)); CHECK(wpm_fill_normal(dy1, seed++, 0, 1)); };
  Timing w1f = time_it(reps, w1_setup, [&] { CHECK(wpm_gelu_fwd(ctx, x1, y1, n1, WPM_GELU_TANH)); });
  Timing w1b = time_it(reps, w1_setup, [&] { CHECK(wpm_gelu_bwd(ctx, dy1, x1, dx1, n1, WPM_GELU_TANH)); });
  row("W1", "gelu fwd", w1f, 8.0 * n1 / 1e9, "GB/s", copy_gbs);
  row("W1", "gelu bwd", w1b, 12.0 * n1 / 1e9, "GB/s", copy_gbs);

  // ---- W2: causal attention B=4 H=8 T=512 D=64
  const int64_t B = 4, H = 8, T = quick ? 64 : 512, D = 64;
  const size_t qn = B * T * H * D;
  Buf q(ctx, WPM_F32, qn), k(ctx, WPM_F32, qn), v(ctx, WPM_F32, qn), o(ctx, WPM_F32, qn), lse(ctx, WPM_F32, B * H * T),
      dout(ctx, WPM_F32, qn), dq(ctx, WPM_F32, qn), dk(ctx, WPM_F32, qn), dv(ctx, WPM_F32, qn);
  wpm_attention_params ap{sizeof ap};
  ap.b = B; ap.t = T; ap.h = H; ap.kvh = H; ap.d = D;
  ap.q = q; ap.k = k; ap.v = v; ap.out = o; ap.lse = lse; ap.dout = dout; ap.dq = dq; ap.dk = dk; ap.dv = dv;
  auto w2_setup = [&] {
    for (wpm_buffer* b : {q.b, k.b, v.b, dout.b}) CHECK(wpm_fill_normal(b, seed++, 0, 1));
  };
  double attn_flops = 4.0 * B * H * T * T * D / 2;
  Timing w2f = time_it(reps, w2_setup, [&] { CHECK(wpm_attention_fwd(ctx, &ap)); });
  Timing w2b = time_it(reps, [&] { w2_setup(); CHECK(wpm_attention_fwd(ctx, &ap)); },
                       [&] { CHECK(wpm_attention_bwd(ctx, &ap)); });
  row("W2", "attention fwd", w2f, attn_flops / 1e9, "GFLOP/s", gemm_gflops);
  row("W2", "attention bwd", w2b, 2.5 * attn_flops / 1e9, "GFLOP/s", gemm_gflops);

  // ---- W3: pooling + head (1024 -> 256, GELU, 256 -> 1) + BT loss, forward + backward
  const int64_t R = 128, T3 = quick ? 32 : 256, C = 1024, Hd = 256, P = R / 2;
  Buf hidden(ctx, WPM_F32, R * T3 * C), lengths(ctx, WPM_I32, R), pooled(ctx, WPM_F32, R * C),
      w1(ctx, WPM_F32, C * Hd), a1(ctx, WPM_F32, R * Hd), g1(ctx, WPM_F32, R * Hd), w2(ctx, WPM_F32, Hd),
      r(ctx, WPM_F32, R), loss(ctx, WPM_F32, 1), dr(ctx, WPM_F32, R), dg1(ctx, WPM_F32, R * Hd),
      da1(ctx, WPM_F32, R * Hd), dw1(ctx, WPM_F32, C * Hd), dw2(ctx, WPM_F32, Hd), dpooled(ctx, WPM_F32, R * C),
      dhidden(ctx, WPM_F32, R * T3 * C);
  std::vector<int32_t> lens(R);
  auto w3_setup = [&] {
    CHECK(wpm_fill_normal(hidden, seed++, 0, 1));
    CHECK(wpm_fill_normal(w1, seed++, 0, 0.03f));
    CHECK(wpm_fill_normal(w2, seed++, 0, 0.06f));
    srand(unsigned(seed++));
    for (auto& l : lens) l = 1 + rand() % T3;
    CHECK(wpm_buffer_write(lengths, 0, lens.data(), R));
  };
  auto gemm_call = [&](bool ta, bool tb, int64_t m, int64_t n, int64_t kk, const wpm_buffer* a, const wpm_buffer* b,
                       wpm_buffer* c, float beta) {
    wpm_gemm_params p{sizeof p};
    p.trans_a = ta; p.trans_b = tb; p.m = m; p.n = n; p.k = kk; p.batch = 1; p.alpha = 1; p.beta = beta;
    p.a = a; p.b = b; p.c = c;
    CHECK(wpm_gemm(ctx, &p));
  };
  wpm_buffer *rc = nullptr, *rr = nullptr, *drc = nullptr, *drr = nullptr;
  CHECK(wpm_buffer_view(r, 0, P, &rc)); CHECK(wpm_buffer_view(r, P, P, &rr));
  CHECK(wpm_buffer_view(dr, 0, P, &drc)); CHECK(wpm_buffer_view(dr, P, P, &drr));
  wpm_bt_loss_params bp{sizeof bp};
  bp.pairs = P; bp.chosen = rc; bp.rejected = rr; bp.loss = loss; bp.dloss = 1; bp.dchosen = drc; bp.drejected = drr;
  Timing w3 = time_it(reps, w3_setup, [&] {
    CHECK(wpm_last_token_pool_fwd(ctx, hidden, lengths, pooled, R, T3, C, WPM_PAD_RIGHT));
    gemm_call(false, false, R, Hd, C, pooled, w1, a1, 0);
    CHECK(wpm_gelu_fwd(ctx, a1, g1, R * Hd, WPM_GELU_TANH));
    gemm_call(false, false, R, 1, Hd, g1, w2, r, 0);
    CHECK(wpm_bt_loss_fwd(ctx, &bp));
    CHECK(wpm_bt_loss_bwd(ctx, &bp));
    gemm_call(true, false, Hd, 1, R, g1, dr, dw2, 1);    // dW2 += g1^T dr
    gemm_call(false, true, R, Hd, 1, dr, w2, dg1, 0);    // dg1 = dr W2^T
    CHECK(wpm_gelu_bwd(ctx, dg1, a1, da1, R * Hd, WPM_GELU_TANH));
    gemm_call(true, false, C, Hd, R, pooled, da1, dw1, 1);  // dW1 += pooled^T da1
    gemm_call(false, true, R, C, Hd, da1, w1, dpooled, 0);  // dpooled = da1 W1^T
    CHECK(wpm_last_token_pool_bwd(ctx, dpooled, lengths, dhidden, R, T3, C, WPM_PAD_RIGHT));
  });
  double w3_bytes = (double(R) * C + double(R) * T3 * C) * 4;  // scoring rows read + dense gradient written
  row("W3", "pool+head+BT fwd+bwd", w3, w3_bytes / 1e9, "GB/s", copy_gbs);
  for (wpm_buffer* b : {rc, rr, drc, drr}) wpm_buffer_free(b);
  wpm_context_destroy(ctx);
  return 0;
}
