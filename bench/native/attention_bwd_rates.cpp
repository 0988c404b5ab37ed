// worldpm_attention_bwd_bench: the CPU attention backward at W2's shape (B=4 H=8 KVH=8 T=512 D=64, causal,
// fp32; AttentionWorkload in bench/WorldPM.Workloads) against the 2048^3 sgemm ceiling (`wpm_gemm`), both in
// one process and timed in thread CPU time (CLOCK_THREAD_CPUTIME_ID), so that other processes on a shared
// machine do not move the ratio: a busy host slows the wall clock, not the cycles the kernel itself costs.
//
//   worldpm_attention_bwd_bench [--rounds N] [--calls N] [--threads N] [--no-forward]
//
// Thread CPU time only means the kernel's cost with 1 thread (the default): the context's pool and
// OpenBLAS then run everything on the calling thread. Set OPENBLAS_NUM_THREADS=1 as well, so that OpenBLAS
// starts no idle threads of its own. Each round times the backward (best of --calls) and the GEMM (best of 3),
// alternating, and prints both rates in GFLOP/s (the backward counted as the workload counts it:
// 2.5 * 4 B H T^2 D / 2) and their ratio, and the forward's rate (best of --calls, 4 B H T^2 D / 2). Last line: a hash of dq, dk, dv's bits, to compare two builds
// that should compute the same bits.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "check.h"
#include "worldpm.h"

namespace {

#define CHECK(expr) wpm_bench::check((expr), "worldpm_attention_bwd_bench", #expr)

constexpr int64_t kB = 4, kT = 512, kH = 8, kKvh = 8, kD = 64, kGemm = 2048;

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

wpm_buffer* filled(wpm_context* ctx, size_t count, uint64_t seed) {
  wpm_buffer* buffer = nullptr;
  CHECK(wpm_buffer_alloc(ctx, WPM_F32, count, &buffer));
  CHECK(wpm_fill_normal(buffer, seed, 0.0f, 1.0f));
  return buffer;
}

// FNV-1a over the buffer's bytes.
uint64_t hash_bits(const wpm_buffer* buffer, size_t count, uint64_t h) {
  std::vector<float> host(count);
  CHECK(wpm_buffer_read(buffer, 0, host.data(), count));
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(host.data());
  for (size_t i = 0; i < count * sizeof(float); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5, calls = 10, threads = 1;
  bool forward = true;  // --no-forward: only the backward and the GEMM (a profile of the backward alone)
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--calls") && i + 1 < argc) calls = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-forward")) forward = false;
    else {
      std::fprintf(stderr, "usage: worldpm_attention_bwd_bench [--rounds N] [--calls N] [--threads N] [--no-forward]\n");
      return 2;
    }
  }
  int32_t nthreads = 0;
  wpm_backend_info info;
  wpm_context* ctx = wpm_bench::open_cpu_context("worldpm_attention_bwd_bench", threads, &nthreads, &info);
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("worldpm_attention_bwd_bench: %d threads, OPENBLAS_CORETYPE=%s; %s\n", nthreads,
              coretype ? coretype : "(unset)", info.reason);
  if (nthreads != 1) std::printf("note: thread CPU time covers the calling thread only; use --threads 1\n");

  const size_t qn = size_t(kB * kT * kH * kD), kvn = size_t(kB * kT * kKvh * kD);
  wpm_buffer *q = filled(ctx, qn, 11), *k = filled(ctx, kvn, 12), *v = filled(ctx, kvn, 13), *dout = filled(ctx, qn, 14);
  wpm_buffer *out = nullptr, *lse = nullptr, *dq = nullptr, *dk = nullptr, *dv = nullptr;
  CHECK(wpm_buffer_alloc(ctx, WPM_F32, qn, &out));
  CHECK(wpm_buffer_alloc(ctx, WPM_F32, size_t(kB * kH * kT), &lse));
  CHECK(wpm_buffer_alloc(ctx, WPM_F32, qn, &dq));
  CHECK(wpm_buffer_alloc(ctx, WPM_F32, kvn, &dk));
  CHECK(wpm_buffer_alloc(ctx, WPM_F32, kvn, &dv));
  wpm_attention_params p{};
  p.struct_size = sizeof p;
  p.b = kB, p.t = kT, p.h = kH, p.kvh = kKvh, p.d = kD;
  p.scale = 0.125f;  // 1 / sqrt(D)
  p.padding = WPM_PAD_RIGHT;
  p.q = q, p.k = k, p.v = v, p.out = out, p.lse = lse, p.dout = dout, p.dq = dq, p.dk = dk, p.dv = dv;
  CHECK(wpm_attention_fwd(ctx, &p));

  wpm_buffer* a = filled(ctx, size_t(kGemm * kGemm), 21);
  wpm_buffer* b = filled(ctx, size_t(kGemm * kGemm), 22);
  wpm_buffer* c = nullptr;
  CHECK(wpm_buffer_alloc(ctx, WPM_F32, size_t(kGemm * kGemm), &c));
  wpm_gemm_params g{};
  g.struct_size = sizeof g;
  g.m = g.n = g.k = kGemm, g.batch = 1, g.alpha = 1.0f, g.beta = 0.0f;
  g.a = a, g.b = b, g.c = c;

  const double bwd_flops = 2.5 * 4.0 * double(kB * kH) * double(kT) * double(kT) * double(kD) / 2.0;
  const double gemm_flops = 2.0 * double(kGemm) * double(kGemm) * double(kGemm);
  CHECK(wpm_attention_bwd(ctx, &p));  // warm-up: workspace, pages
  CHECK(wpm_gemm(ctx, &g));
  std::printf("%5s %14s %14s %8s %14s\n", "round", "bwd GFLOP/s", "sgemm GFLOP/s", "ratio", "fwd GFLOP/s");
  std::vector<double> ratios;
  for (int r = 0; r < rounds; ++r) {
    double best_bwd = 1e30, best_gemm = 1e30, best_fwd = 1e30;
    for (int i = 0; forward && i < calls; ++i) {  // the forward too, to see that what the backward shares with it did not slow it
      double t0 = thread_seconds();
      CHECK(wpm_attention_fwd(ctx, &p));
      best_fwd = std::min(best_fwd, thread_seconds() - t0);
    }
    for (int i = 0; i < calls; ++i) {
      double t0 = thread_seconds();
      CHECK(wpm_attention_bwd(ctx, &p));
      best_bwd = std::min(best_bwd, thread_seconds() - t0);
    }
    for (int i = 0; i < 3; ++i) {
      double t0 = thread_seconds();
      CHECK(wpm_gemm(ctx, &g));
      best_gemm = std::min(best_gemm, thread_seconds() - t0);
    }
    double bwd = bwd_flops / best_bwd * 1e-9, gemm = gemm_flops / best_gemm * 1e-9;
    ratios.push_back(bwd / gemm);
    std::printf("%5d %14.1f %14.1f %8.3f %14.1f\n", r, bwd, gemm, bwd / gemm, bwd_flops / 2.5 / best_fwd * 1e-9);
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("ratio median %.3f (min %.3f, max %.3f)\n", ratios[ratios.size() / 2], ratios.front(), ratios.back());
  uint64_t h = 1469598103934665603ull;
  h = hash_bits(dq, qn, h);
  h = hash_bits(dk, kvn, h);
  h = hash_bits(dv, kvn, h);
  std::printf("dq dk dv bits: %016llx\n", (unsigned long long)h);
  for (wpm_buffer* x : {q, k, v, dout, out, lse, dq, dk, dv, a, b, c}) wpm_buffer_free(x);
  wpm_context_destroy(ctx);
  return 0;
}
