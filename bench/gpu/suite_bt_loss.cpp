// The Bradley-Terry loss (bt_loss.cu) over P = 2^20 pairs (f32, no weights, margin 0).
// Memory-bound: compared with the copy ceiling (a one-block kernel by design, see its header;
// the fraction shows what that costs). Bytes, as the header counts them:
//   fwd 8 P + 4                (chosen, rejected read; loss written)
//   bwd 16 P                   (chosen, rejected read; dchosen, drejected written)
#include <string>

#include "check.h"
#include "device_buffer.h"
#include "suites.h"

namespace gpubench {

namespace {

namespace k = kernels_cuda;

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

void bt_loss_suite(Bench& bench) { bench.guarded("bt_loss set-up", [&] { bt_loss_family(bench); }); }

}  // namespace gpubench
