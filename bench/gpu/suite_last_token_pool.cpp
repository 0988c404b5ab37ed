// Last-token pooling (last_token_pool.cu) of hidden [B=16, T=512, C=2048], f32 and bf16, right
// padding, lengths uniform in 1..T. Memory-bound: compared with the copy ceiling (a small kernel
// by design, see its header; the fraction shows what that costs). Bytes, as the header counts
// them (s = sizeof(T)):
//   fwd 2 B C s                (the B scoring rows read, out written)
//   bwd B C s + B T C s        (dout read, all of dhidden written)
#include <string>

#include "check.h"
#include "device_buffer.h"
#include "suites.h"

namespace gpubench {

namespace {

namespace k = kernels_cuda;

void pool_family(Bench& bench, kdtype dtype) {
  if (!bench.wants({"last_token_pool_fwd", "last_token_pool_bwd"})) return;
  const int64_t b = 16, t = 512, c = 2048;
  const double s = double(dtype_bytes(dtype));
  DeviceBuffer hidden = random_buffer(dtype, b * t * c, -1, 1, bench.next_seed());
  DeviceBuffer dout = random_buffer(dtype, b * c, -1, 1, bench.next_seed());
  DeviceBuffer lengths = upload(random_ints(b, 1, int32_t(t), bench.next_seed()));
  DeviceBuffer out(size_t(b * c) * dtype_bytes(dtype)), dhidden(size_t(b * t * c) * dtype_bytes(dtype));
  const std::string shape = "B=16 T=512 C=2048";
  bench.measure(memory_work("last_token_pool_fwd", dtype_name(dtype), shape, 2.0 * b * c * s, "2 B C s"), [&] {
    check_launch(k::last_token_pool_fwd(bench.stream(), hidden.get(), lengths.as<int32_t>(), out.get(), b, t, c,
                                        kpadding::right, dtype),
                 "last_token_pool_fwd");
  });
  bench.measure(memory_work("last_token_pool_bwd", dtype_name(dtype), shape, double(b) * c * s + double(b) * t * c * s,
                            "B C s + B T C s"),
                [&] {
                  check_launch(k::last_token_pool_bwd(bench.stream(), dout.get(), lengths.as<int32_t>(),
                                                      dhidden.get(), b, t, c, kpadding::right, dtype),
                               "last_token_pool_bwd");
                });
}

}  // namespace

void last_token_pool_suite(Bench& bench) {
  for (kdtype dtype : {kdtype::f32, kdtype::bf16})
    bench.guarded(std::string("last_token_pool set-up ") + dtype_name(dtype), [&] { pool_family(bench, dtype); });
}

}  // namespace gpubench
