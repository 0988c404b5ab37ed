// Elementwise kernels over n = 4096 x 2048 elements (32 MiB per f32 operand), f32 and bf16:
// GELU (tanh and exact), SwiGLU, ReLU, casts, fill. All memory-bound: compared with the copy
// ceiling. Bytes, as the headers count them (s = sizeof(T)):
//   gelu.cu     fwd 2 n s (x read, out written), bwd 3 n s (dout, x read, dx written)
//   swiglu.cu   fwd 3 n s, bwd 5 n s
//   relu.cu     fwd 2 n s, bwd 3 n s
//   cast.cu     n (sizeof(S) + sizeof(D))
//   fill.cu     n elem_bytes written
#include <string>

#include "check.h"
#include "device_buffer.h"
#include "suites.h"

namespace gpubench {

namespace {

namespace k = kernels_cuda;

constexpr int64_t kRows = 4096, kCols = 2048, kN = kRows * kCols;
const std::string kShape = "4096x2048";

void gelu_family(Bench& bench, kdtype dtype) {
  if (!bench.wants({"gelu_fwd", "gelu_bwd"})) return;
  const double s = double(dtype_bytes(dtype));
  DeviceBuffer x = random_buffer(dtype, kN, -4, 4, bench.next_seed());
  DeviceBuffer dout = random_buffer(dtype, kN, -1, 1, bench.next_seed());
  DeviceBuffer out(size_t(kN) * dtype_bytes(dtype)), dx(size_t(kN) * dtype_bytes(dtype));
  for (gelu_form form : {gelu_form::tanh, gelu_form::exact}) {
    const std::string shape = kShape + (form == gelu_form::tanh ? " tanh" : " exact");
    bench.measure(memory_work("gelu_fwd", dtype_name(dtype), shape, 2 * kN * s, "2 n s"), [&] {
      check_launch(k::gelu_fwd(bench.stream(), x.get(), out.get(), kN, form, dtype), "gelu_fwd");
    });
    bench.measure(memory_work("gelu_bwd", dtype_name(dtype), shape, 3 * kN * s, "3 n s"), [&] {
      check_launch(k::gelu_bwd(bench.stream(), dout.get(), x.get(), dx.get(), kN, form, dtype), "gelu_bwd");
    });
  }
}

void swiglu_relu_family(Bench& bench, kdtype dtype) {
  if (!bench.wants({"swiglu_fwd", "swiglu_bwd", "relu_fwd", "relu_bwd"})) return;
  const double s = double(dtype_bytes(dtype));
  const size_t bytes = size_t(kN) * dtype_bytes(dtype);
  DeviceBuffer gate = random_buffer(dtype, kN, -4, 4, bench.next_seed());
  DeviceBuffer up = random_buffer(dtype, kN, -1, 1, bench.next_seed());
  DeviceBuffer dout = random_buffer(dtype, kN, -1, 1, bench.next_seed());
  DeviceBuffer out(bytes), dgate(bytes), dup(bytes);
  bench.measure(memory_work("swiglu_fwd", dtype_name(dtype), kShape, 3 * kN * s, "3 n s"), [&] {
    check_launch(k::swiglu_fwd(bench.stream(), gate.get(), up.get(), out.get(), kN, dtype), "swiglu_fwd");
  });
  bench.measure(memory_work("swiglu_bwd", dtype_name(dtype), kShape, 5 * kN * s, "5 n s"), [&] {
    check_launch(k::swiglu_bwd(bench.stream(), dout.get(), gate.get(), up.get(), dgate.get(), dup.get(), kN, dtype),
                 "swiglu_bwd");
  });
  bench.measure(memory_work("relu_fwd", dtype_name(dtype), kShape, 2 * kN * s, "2 n s"), [&] {
    check_launch(k::relu_fwd(bench.stream(), gate.get(), out.get(), kN, dtype), "relu_fwd");
  });
  bench.measure(memory_work("relu_bwd", dtype_name(dtype), kShape, 3 * kN * s, "3 n s"), [&] {
    check_launch(k::relu_bwd(bench.stream(), dout.get(), gate.get(), dgate.get(), kN, dtype), "relu_bwd");
  });
}

void cast_family(Bench& bench) {
  if (!bench.wants({"cast_dtype"})) return;
  const struct { kdtype src, dst; } pairs[] = {
      {kdtype::f32, kdtype::bf16}, {kdtype::bf16, kdtype::f32}, {kdtype::f32, kdtype::f16}};
  for (const auto& p : pairs) {
    DeviceBuffer src = random_buffer(p.src, kN, -1, 1, bench.next_seed());
    DeviceBuffer dst(size_t(kN) * dtype_bytes(p.dst));
    const std::string label = std::string(dtype_name(p.src)) + "->" + dtype_name(p.dst);
    const double bytes = double(kN) * double(dtype_bytes(p.src) + dtype_bytes(p.dst));
    bench.measure(memory_work("cast_dtype", label, kShape, bytes, "n (sizeof(S) + sizeof(D))"), [&] {
      check_launch(k::cast_dtype(bench.stream(), src.get(), p.src, dst.get(), p.dst, kN), "cast_dtype");
    });
  }
}

void fill_family(Bench& bench) {
  if (!bench.wants({"fill_bits"})) return;
  DeviceBuffer dst(size_t(kN) * 4);
  const struct { int elem_bytes; uint32_t bits; const char* label; } fills[] = {
      {4, 0x3f800000u, "4-byte"}, {2, 0x3f80u, "2-byte"}};  // 1.0f, bf16 1.0
  for (const auto& f : fills) {
    bench.measure(memory_work("fill_bits", f.label, kShape, double(kN) * f.elem_bytes, "n elem_bytes"), [&] {
      check_launch(k::fill_bits(bench.stream(), dst.get(), kN, f.elem_bytes, f.bits), "fill_bits");
    });
  }
}

}  // namespace

void elementwise_suite(Bench& bench) {
  for (kdtype dtype : {kdtype::f32, kdtype::bf16}) {
    bench.guarded(std::string("gelu set-up ") + dtype_name(dtype), [&] { gelu_family(bench, dtype); });
    bench.guarded(std::string("swiglu/relu set-up ") + dtype_name(dtype), [&] { swiglu_relu_family(bench, dtype); });
  }
  bench.guarded("cast set-up", [&] { cast_family(bench); });
  bench.guarded("fill set-up", [&] { fill_family(bench); });
}

}  // namespace gpubench
