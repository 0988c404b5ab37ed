// Per-token layer kernels, f32 and bf16: RMSNorm over N=4096 rows of C=2048, RoPE in place on
// [B=4, T=2048, H=16, D=128] (positions null: pos = t; theta 1e6), and the embedding over
// N=4096 tokens of a [V=32768, C=2048] table (ids uniform in 0..V-1). Memory-bound: compared
// with the copy ceiling. Bytes, as the headers count them (s = sizeof(T), DRAM traffic that
// cannot be avoided; re-reads from L1/L2 are not counted):
//   rmsnorm.cu     fwd 2 N C s + C s + 4 N              (x, out, weight, rstd)
//                  bwd 3 N C s + 4 N + 3 C s + 8 C nb   (x, dout, dx, rstd, weight, dweight read and
//                                                        written, nb fp32 partial rows written and read)
//   rope.cu        fwd, bwd 2 B T H D s                 (in place, read and written)
//   embedding.cu   fwd 2 N C s + 4 N                    (table rows read, out written, ids)
//                  bwd N C s + 2 U C s + 4 N            (dout read, U distinct rows of dtable read and
//                                                        written, ids; its O(N^2) id compares hit L1)
#include <set>
#include <string>

#include "check.h"
#include "device_buffer.h"
#include "suites.h"

namespace gpubench {

namespace {

namespace k = kernels_cuda;

void rmsnorm_family(Bench& bench, kdtype dtype) {
  if (!bench.wants({"rmsnorm_fwd", "rmsnorm_bwd"})) return;
  const int64_t n = 4096, c = 2048;
  const double s = double(dtype_bytes(dtype));
  DeviceBuffer x = random_buffer(dtype, n * c, -2, 2, bench.next_seed());
  DeviceBuffer dout = random_buffer(dtype, n * c, -1, 1, bench.next_seed());
  DeviceBuffer weight = random_buffer(dtype, c, 0.5f, 1.5f, bench.next_seed());
  DeviceBuffer dweight = random_buffer(dtype, c, -1, 1, bench.next_seed());
  DeviceBuffer out(size_t(n * c) * dtype_bytes(dtype)), dx(size_t(n * c) * dtype_bytes(dtype));
  DeviceBuffer rstd(size_t(n) * 4);
  const int64_t ws_bytes = k::rmsnorm_bwd_workspace_bytes(n, c);
  DeviceBuffer workspace(static_cast<size_t>(ws_bytes));
  const double partial_rows = double(ws_bytes) / (4.0 * double(c));
  const std::string shape = "N=4096 C=2048";
  auto forward = [&] {
    check_launch(k::rmsnorm_fwd(bench.stream(), x.get(), weight.get(), out.get(), rstd.as<float>(), n, c, 1e-6f, dtype),
                 "rmsnorm_fwd");
  };
  bench.measure(memory_work("rmsnorm_fwd", dtype_name(dtype), shape, 2.0 * n * c * s + c * s + 4.0 * n,
                            "2 N C s + C s + 4 N"),
                forward);
  if (!bench.wants({"rmsnorm_bwd"})) return;
  forward();  // the backward reads the forward's rstd
  check_cuda(cudaStreamSynchronize(bench.stream()), "rmsnorm_fwd (before the backward)");
  bench.measure(memory_work("rmsnorm_bwd", dtype_name(dtype), shape,
                            3.0 * n * c * s + 4.0 * n + 3.0 * c * s + 8.0 * c * partial_rows,
                            "3 N C s + 4 N + 3 C s + 8 C nb"),
                [&] {
                  check_launch(k::rmsnorm_bwd(bench.stream(), dout.get(), x.get(), weight.get(), rstd.as<float>(),
                                              dx.get(), dweight.get(), workspace.get(), n, c, dtype),
                               "rmsnorm_bwd");
                });
}

void rope_family(Bench& bench, kdtype dtype) {
  if (!bench.wants({"rope_fwd", "rope_bwd"})) return;
  const int64_t b = 4, t = 2048, h = 16, d = 128;
  const double bytes = 2.0 * double(b * t * h * d) * double(dtype_bytes(dtype));
  DeviceBuffer x = random_buffer(dtype, b * t * h * d, -1, 1, bench.next_seed());
  const std::string shape = "B=4 T=2048 H=16 D=128";
  // In place: each repetition rotates x again, which keeps it finite (a rotation).
  bench.measure(memory_work("rope_fwd", dtype_name(dtype), shape, bytes, "2 B T H D s"), [&] {
    check_launch(k::rope_fwd(bench.stream(), x.get(), nullptr, b, t, h, d, 1e6f, dtype), "rope_fwd");
  });
  bench.measure(memory_work("rope_bwd", dtype_name(dtype), shape, bytes, "2 B T H D s"), [&] {
    check_launch(k::rope_bwd(bench.stream(), x.get(), nullptr, b, t, h, d, 1e6f, dtype), "rope_bwd");
  });
}

void embedding_family(Bench& bench, kdtype dtype) {
  if (!bench.wants({"embedding_fwd", "embedding_bwd"})) return;
  const int64_t n = 4096, vocab = 32768, c = 2048;
  const double s = double(dtype_bytes(dtype));
  const std::vector<int32_t> host_ids = random_ints(n, 0, int32_t(vocab - 1), bench.next_seed());
  const double distinct = double(std::set<int32_t>(host_ids.begin(), host_ids.end()).size());
  DeviceBuffer ids = upload(host_ids);
  DeviceBuffer table = random_buffer(dtype, vocab * c, -1, 1, bench.next_seed());
  DeviceBuffer dout = random_buffer(dtype, n * c, -1, 1, bench.next_seed());
  DeviceBuffer out(size_t(n * c) * dtype_bytes(dtype));
  DeviceBuffer workspace(size_t(k::embedding_bwd_workspace_bytes(n)));
  const std::string shape = "N=4096 V=32768 C=2048";
  bench.measure(memory_work("embedding_fwd", dtype_name(dtype), shape, 2.0 * n * c * s + 4.0 * n, "2 N C s + 4 N"),
                [&] {
                  check_launch(k::embedding_fwd(bench.stream(), ids.as<int32_t>(), table.get(), out.get(), n, vocab,
                                                c, dtype),
                               "embedding_fwd");
                });
  // Accumulates into the table (dtable) every repetition; the values stay finite.
  bench.measure(memory_work("embedding_bwd", dtype_name(dtype), shape + " U=" + std::to_string(int64_t(distinct)),
                            double(n) * c * s + 2.0 * distinct * c * s + 4.0 * n, "N C s + 2 U C s + 4 N"),
                [&] {
                  check_launch(k::embedding_bwd(bench.stream(), ids.as<int32_t>(), dout.get(), table.get(),
                                                workspace.get(), n, vocab, c, dtype),
                               "embedding_bwd");
                });
}

}  // namespace

void layer_suite(Bench& bench) {
  for (kdtype dtype : {kdtype::f32, kdtype::bf16}) {
    const std::string suffix = std::string(" set-up ") + dtype_name(dtype);
    bench.guarded("rmsnorm" + suffix, [&] { rmsnorm_family(bench, dtype); });
    bench.guarded("rope" + suffix, [&] { rope_family(bench, dtype); });
    bench.guarded("embedding" + suffix, [&] { embedding_family(bench, dtype); });
  }
}

}  // namespace gpubench
