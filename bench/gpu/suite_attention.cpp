// Causal attention, forward and backward: the tensor-core kernels (attention.cu; f16 /
// bf16, D 64 and 128) at B=4 H=8 T=512, a long-sequence GQA case at T=2048, and the
// CUDA-core kernels (attention_generic.cu) in f32 at D 64. Full sequences (lengths null),
// right padding, scale 1/sqrt(D).
//
// FLOPs, as the headers count them (compute-bound: compared with the GEMM ceiling of the dtype):
//   attention.cu          fwd 4 B H T^2 D / 2 = 2 B H T^2 D     (S = Q K^T and P V, half masked)
//                         bwd 7 B H T^2 D                        (S, dV, dP, dK, and S, dP, dQ again)
//   attention_generic.cu  fwd 4 D P, bwd 14 D P,  P = B H T (T + 1) / 2 causal (query, key) pairs
// The backward counts are what the kernels execute; FlashAttention's convention (2.5x the
// forward, no recomputation) would give 5/7 of the tensor-core backward's rate.
#include <cmath>
#include <string>

#include "check.h"
#include "device_buffer.h"
#include "suites.h"

namespace gpubench {

namespace {

namespace k = kernels_cuda;

struct AttentionShape {
  kdtype dtype;
  int64_t b, t, h, kvh, d;
  bool generic;  // attention_generic_* instead of the tensor-core attention_*
};

void run_shape(Bench& bench, const AttentionShape& s) {
  const char* fwd_name = s.generic ? "attention_generic_fwd" : "attention_fwd";
  const char* bwd_name = s.generic ? "attention_generic_bwd" : "attention_bwd";
  if (!bench.wants({fwd_name, bwd_name})) return;

  const int64_t nq = s.b * s.t * s.h * s.d, nkv = s.b * s.t * s.kvh * s.d;
  DeviceBuffer q = random_buffer(s.dtype, nq, -1, 1, bench.next_seed());
  DeviceBuffer kk = random_buffer(s.dtype, nkv, -1, 1, bench.next_seed());
  DeviceBuffer v = random_buffer(s.dtype, nkv, -1, 1, bench.next_seed());
  DeviceBuffer dout = random_buffer(s.dtype, nq, -1, 1, bench.next_seed());
  const size_t elem = dtype_bytes(s.dtype);
  DeviceBuffer out(size_t(nq) * elem), dq(size_t(nq) * elem), dk(size_t(nkv) * elem), dv(size_t(nkv) * elem);
  DeviceBuffer lse(size_t(s.b * s.h * s.t) * 4);
  const int64_t ws_bytes = s.generic ? k::attention_generic_bwd_workspace_bytes(s.b, s.t, s.h)
                                     : k::attention_bwd_workspace_bytes(s.b, s.t, s.h, s.kvh, s.d);
  DeviceBuffer workspace(static_cast<size_t>(ws_bytes));

  const std::string shape = "B=" + std::to_string(s.b) + " H=" + std::to_string(s.h) + " KVH=" +
                            std::to_string(s.kvh) + " T=" + std::to_string(s.t) + " D=" + std::to_string(s.d);
  const double bhttd = double(s.b) * double(s.h) * double(s.t) * double(s.t) * double(s.d);
  const double pairs = double(s.b) * double(s.h) * double(s.t) * double(s.t + 1) / 2;
  const double fwd_flops = s.generic ? 4.0 * double(s.d) * pairs : 2.0 * bhttd;
  const double bwd_flops = s.generic ? 14.0 * double(s.d) * pairs : 7.0 * bhttd;
  const char* fwd_formula = s.generic ? "4 D P, P = B H T(T+1)/2" : "4 B H T^2 D / 2";
  const char* bwd_formula = s.generic ? "14 D P, P = B H T(T+1)/2" : "7 B H T^2 D";
  const kpadding pad = kpadding::right;

  auto forward = [&] {
    const kstatus st =
        s.generic ? k::attention_generic_fwd(bench.stream(), q.get(), kk.get(), v.get(), nullptr, out.get(),
                                             lse.as<float>(), s.b, s.t, s.h, s.kvh, s.d, 0.0f, pad, s.dtype)
                  : k::attention_fwd(bench.stream(), q.get(), kk.get(), v.get(), nullptr, out.get(), lse.as<float>(),
                                     s.b, s.t, s.h, s.kvh, s.d, 0.0f, pad, s.dtype);
    check_launch(st, fwd_name);
  };
  auto backward = [&] {
    const kstatus st =
        s.generic
            ? k::attention_generic_bwd(bench.stream(), q.get(), kk.get(), v.get(), out.get(), lse.as<float>(),
                                       dout.get(), dq.get(), dk.get(), dv.get(), workspace.get(), nullptr, s.b, s.t,
                                       s.h, s.kvh, s.d, 0.0f, pad, s.dtype)
            : k::attention_bwd(bench.stream(), q.get(), kk.get(), v.get(), out.get(), lse.as<float>(), dout.get(),
                               dq.get(), dk.get(), dv.get(), workspace.get(), nullptr, s.b, s.t, s.h, s.kvh, s.d,
                               0.0f, pad, s.dtype);
    check_launch(st, bwd_name);
  };

  bench.measure(compute_work(fwd_name, s.dtype, dtype_name(s.dtype), shape, fwd_flops, fwd_formula), forward);
  if (!bench.wants({bwd_name})) return;
  // The backward reads the forward's out and lse: one untimed forward first.
  forward();
  check_cuda(cudaStreamSynchronize(bench.stream()), std::string(fwd_name) + " (before the backward)");
  bench.measure(compute_work(bwd_name, s.dtype, dtype_name(s.dtype), shape, bwd_flops, bwd_formula), backward);
}

}  // namespace

void attention_suite(Bench& bench) {
  const AttentionShape shapes[] = {
      {kdtype::f16, 4, 512, 8, 8, 64, false},   {kdtype::bf16, 4, 512, 8, 8, 64, false},
      {kdtype::f16, 4, 512, 8, 8, 128, false},  {kdtype::bf16, 4, 512, 8, 8, 128, false},
      // long sequence, GQA 4:1 (Qwen2.5 layouts group 4-7 query heads per kv head)
      {kdtype::bf16, 4, 2048, 8, 2, 64, false}, {kdtype::bf16, 4, 2048, 8, 2, 128, false},
      {kdtype::f32, 4, 512, 8, 8, 64, true},
  };
  for (const AttentionShape& s : shapes)
    bench.guarded(std::string("attention set-up ") + dtype_name(s.dtype) + " T=" + std::to_string(s.t) + " D=" +
                      std::to_string(s.d),
                  [&] { run_shape(bench, s); });
}

}  // namespace gpubench
