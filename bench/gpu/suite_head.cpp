// The preference head's own kernels: last-token pooling of hidden [B=16, T=512, C=2048] (f32
// and bf16, right padding, lengths uniform in 1..T) and the Bradley-Terry loss over P = 2^20
// pairs (f32, no weights, margin 0). Memory-bound: compared with the copy ceiling (both are
// small or one-block kernels by design, see their headers; the fraction shows what that costs).
// Bytes, as the headers count them (s = sizeof(T)):
//   last_token_pool.cu  fwd 2 B C s                (the B scoring rows read, out written)
//                       bwd B C s + B T C s        (dout read, all of dhidden written)
//   bt_loss.cu          fwd 8 P + 4                (chosen, rejected read; loss written)
//                       bwd 16 P                   (chosen, rejected read; dchosen, drejected written)
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

void bt_loss_family(Bench& bench) {
  if (!bench.wants({"bt_loss_fwd", "bt_loss_bwd"})) return;
  const int64_t pairs = int64_t(1) << 20;
  DeviceBuffer chosen = random_buffer(kdtype::f32, pairs, -4, 4, bench.next_seed());
  DeviceBuffer rejected = random_buffer(kdtype::f32, pairs, -4, 4, bench.next_seed());
  DeviceBuffer loss(4), dchosen(size_t(pairs) * 4), drejected(size_t(pairs) * 4);
  const std::string shape = "P=1048576";
  bench.measure(memory_work("bt_loss_fwd", "f32", shape, 8.0 * pairs + 4, "8 P + 4"), [&] {
    check_launch(k::bt_loss_fwd(bench.stream(), chosen.as<float>(), rejected.as<float>(), nullptr, loss.as<float>(),
                                pairs, 0.0f),
                 "bt_loss_fwd");
  });
  bench.measure(memory_work("bt_loss_bwd", "f32", shape, 16.0 * pairs, "16 P"), [&] {
    check_launch(k::bt_loss_bwd(bench.stream(), chosen.as<float>(), rejected.as<float>(), nullptr,
                                dchosen.as<float>(), drejected.as<float>(), pairs, 0.0f, 1.0f),
                 "bt_loss_bwd");
  });
}

}  // namespace

void head_suite(Bench& bench) {
  for (kdtype dtype : {kdtype::f32, kdtype::bf16})
    bench.guarded(std::string("last_token_pool set-up ") + dtype_name(dtype), [&] { pool_family(bench, dtype); });
  bench.guarded("bt_loss set-up", [&] { bt_loss_family(bench); });
}

}  // namespace gpubench
