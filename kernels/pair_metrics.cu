// A training step's preference metrics, accumulated on the device so that the
// host reads them once per optimizer step instead of after every micro-batch.
//
//   rewards f32 [2 pairs]: chosen = rewards[0..pairs), rejected = rewards[pairs..2 pairs)
//   loss f32 [1]: the micro-batch's mean loss
//   metrics f32 [3] += {loss * pairs, count(chosen > rejected), sum(chosen - rejected)}
//
// One thread sums the pairs' float differences in order in float64 and adds each total to its
// metric once: a few hundred pairs at most, so a reduction would cost more in
// launches than it saves, and the fixed order gives the same bits everywhere.
// Cost: 8 bytes read per pair, 12 bytes read and written for the metrics.
//
// Emulator: one thread, no barrier, no shared memory.
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;

__global__ void __launch_bounds__(1) pair_metrics_kernel(const float* __restrict__ rewards,
                                                         const float* __restrict__ loss, int64_t pairs,
                                                         float* __restrict__ metrics) {
  kernel_launch_bounds(1);
  double correct = 0.0, margin = 0.0;
  for (int64_t i = 0; i < pairs; ++i) {
    const float delta = rewards[i] - rewards[pairs + i];
    correct += delta > 0.0f ? 1.0 : 0.0;
    margin += double(delta);
  }
  metrics[0] = float(double(metrics[0]) + double(loss[0]) * double(pairs));
  metrics[1] = float(double(metrics[1]) + correct);
  metrics[2] = float(double(metrics[2]) + margin);
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus pair_metrics(kstream_t stream, const float* rewards, const float* loss, int64_t pairs, float* metrics) {
  if (kstatus s = check_size("pair_metrics", "pairs", pairs)) return s;
  if (kstatus s = check_pointers("pair_metrics", !rewards || !loss || !metrics)) return s;
  return klaunch(pair_metrics_kernel, dim3(1), dim3(1), 0, stream, rewards, loss, pairs, metrics);
}

}  // namespace WPM_KERNELS_NS
