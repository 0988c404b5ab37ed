// worldpm_gemm_bench: wpm_gemm at the reference model's shapes (W4/W5: 16
// sequences x T=256 = 4096 tokens, d 512, K/V 128, SwiGLU 1408), fp32 against
// bf16 back to back per shape, so that both see the same machine load.
//
//   worldpm_gemm_bench [--reps N] [--threads N]
//   WORLDPM_BF16_GEMM=convert worldpm_gemm_bench   (bf16 through the converting path)
//
// Prints median and min ms and GFLOP/s at the median per dtype, and the bf16
// speedup (fp32 median / bf16 median). The shapes are the forward projections
// (y = x W^T: NT), the input gradients (dx = dy W: NN) and the weight
// gradients (dW += dy^T x: TN, K = tokens).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "check.h"
#include "worldpm.h"

namespace {

#define CHECK(expr) wpm_bench::check((expr), "worldpm_gemm_bench", #expr)

struct Shape {
  const char* name;
  bool ta, tb;
  int64_t m, n, k;
  float beta;
};

constexpr int64_t kTokens = 4096;
const Shape kShapes[] = {
    {"q/o fwd      x W^T", false, true, kTokens, 512, 512, 0},
    {"k/v fwd      x W^T", false, true, kTokens, 128, 512, 0},
    {"gate/up fwd  x W^T", false, true, kTokens, 1408, 512, 0},
    {"down fwd     x W^T", false, true, kTokens, 512, 1408, 1},
    {"down dx      dy W", false, false, kTokens, 1408, 512, 0},
    {"gate/up dx   dy W", false, false, kTokens, 512, 1408, 1},
    {"q/o dW       dy^T x", true, false, 512, 512, kTokens, 1},
    {"gate/up dW   dy^T x", true, false, 1408, 512, kTokens, 1},
    {"down dW      dy^T x", true, false, 512, 1408, kTokens, 1},
    {"square 2048^3", false, false, 2048, 2048, 2048, 0},
};

struct Timing { double median_ms, min_ms; };

struct Operands {
  wpm_buffer *a = nullptr, *b = nullptr, *c = nullptr;
  Operands(wpm_context* ctx, wpm_dtype dtype, const Shape& s) {
    CHECK(wpm_buffer_alloc(ctx, dtype, size_t(s.m * s.k), &a));
    CHECK(wpm_buffer_alloc(ctx, dtype, size_t(s.k * s.n), &b));
    CHECK(wpm_buffer_alloc(ctx, dtype, size_t(s.m * s.n), &c));
    CHECK(wpm_fill_uniform(a, 1, -1, 1));
    CHECK(wpm_fill_uniform(b, 2, -1, 1));
    CHECK(wpm_fill_uniform(c, 3, -1, 1));
  }
  ~Operands() {
    wpm_buffer_free(a);
    wpm_buffer_free(b);
    wpm_buffer_free(c);
  }
};

double run_once(wpm_context* ctx, const Shape& s, const Operands& o) {
  wpm_gemm_params p{};
  p.struct_size = sizeof p;
  p.trans_a = s.ta;
  p.trans_b = s.tb;
  p.m = s.m, p.n = s.n, p.k = s.k, p.batch = 1;
  p.alpha = 1.0f, p.beta = s.beta;
  p.a = o.a, p.b = o.b, p.c = o.c;
  auto start = std::chrono::steady_clock::now();
  CHECK(wpm_gemm(ctx, &p));
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Timing summary(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 9, threads = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else { std::fprintf(stderr, "usage: worldpm_gemm_bench [--reps N] [--threads N]\n"); return 2; }
  }
  int32_t nthreads = 0;
  wpm_backend_info info;
  wpm_context* ctx = wpm_bench::open_cpu_context("worldpm_gemm_bench", threads, &nthreads, &info);
  std::printf("worldpm_gemm_bench: %d threads, median and min of %d after a warm-up; %s\n", nthreads, reps,
              info.reason);
  std::printf("%-22s %5s %5s %5s %10s %10s %8s %10s %10s %8s %7s\n", "shape", "m", "n", "k", "f32 med", "f32 min",
              "GFLOP/s", "bf16 med", "bf16 min", "GFLOP/s", "speedup");
  for (const Shape& s : kShapes) {
    Operands f32(ctx, WPM_F32, s), bf16(ctx, WPM_BF16, s);
    run_once(ctx, s, f32);
    run_once(ctx, s, bf16);
    std::vector<double> t32, t16;
    for (int r = 0; r < reps; ++r) {  // interleaved: both dtypes see the same load
      t32.push_back(run_once(ctx, s, f32));
      t16.push_back(run_once(ctx, s, bf16));
    }
    Timing a = summary(t32), b = summary(t16);
    double gflop = 2.0 * double(s.m) * double(s.n) * double(s.k) * 1e-9;
    std::printf("%-22s %5lld %5lld %5lld %10.3f %10.3f %8.1f %10.3f %10.3f %8.1f %6.2fx\n", s.name, (long long)s.m,
                (long long)s.n, (long long)s.k, a.median_ms, a.min_ms, gflop / (a.median_ms * 1e-3), b.median_ms,
                b.min_ms, gflop / (b.median_ms * 1e-3), a.median_ms / b.median_ms);
  }
  wpm_context_destroy(ctx);
  return 0;
}
