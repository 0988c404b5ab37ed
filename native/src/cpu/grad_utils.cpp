// Gradient utilities on the CPU: the global L2 norm over many tensors, and the
// loss-scaler's in-place scale with an inf/NaN check.
//
// global_norm is a two-phase, fixed-order reduction: every tensor is cut into
// blocks of kBlock elements at fixed offsets; phase 1 sums the squares of each
// block in double (8 independent lanes, so the loop vectorises, combined in a
// fixed order); phase 2 adds the block sums tensor by tensor, block by block.
// Where a block starts and how it is summed never depends on the threads, so
// the result has the same bits for any thread count, and double accumulation
// keeps it accurate (and free of overflow) for any f32 input. An inf or NaN
// element gives an inf or NaN norm, which is what a trainer checks for.
//
// scale_check_finite multiplies in place in the storage dtype and checks the
// value as stored: an f16 product that rounds to inf counts as inf.
//
// pair_metrics adds a micro-batch's loss, accuracy and margin sums into a
// step's metrics (wpm_pair_metrics).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "cpu_backend.h"

namespace wpm {

namespace {

constexpr int64_t kBlock = 1 << 14;  // elements per partial sum (and the smallest chunk per thread)
constexpr int kLanes = 8;

template <class T>
double sum_squares(const T* x, int64_t begin, int64_t end) {
  double lane[kLanes] = {};
  int64_t i = begin;
  for (; i + kLanes <= end; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      double value = load(x, i + j);
      lane[j] += value * value;
    }
  for (int j = 0; i < end; ++i, ++j) {
    double value = load(x, i);
    lane[j] += value * value;
  }
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int j = 0; j < width; ++j) lane[j] += lane[j + width];
  return lane[0];
}

// Scales [begin, end) in place; true when a stored result is inf or NaN.
template <class T>
bool scale_range(T* x, int64_t begin, int64_t end, float scale) {
  bool bad = false;
  for (int64_t i = begin; i < end; ++i) {
    store(x, i, load(x, i) * scale);
    bad |= !(std::fabs(load(x, i)) <= FLT_MAX);  // false for inf and NaN alike
  }
  return bad;
}

int64_t block_count(int64_t n) { return (n + kBlock - 1) / kBlock; }

}  // namespace

wpm_status CpuBackend::global_norm(const TensorRef* tensors, int64_t count, float* out) {
  int64_t total_blocks = 0;
  for (int64_t ti = 0; ti < count; ++ti) total_blocks += block_count(tensors[ti].count);
  std::vector<double> partial(static_cast<size_t>(total_blocks));
  double* tensor_partial = partial.data();
  for (int64_t ti = 0; ti < count; ++ti) {
    const TensorRef& t = tensors[ti];
    pool_.parallel_for(block_count(t.count), 1, [&](int64_t first, int64_t last, int) {
      dispatch_float(t.dtype, [&](auto tag) {
        const auto* x = static_cast<const decltype(tag)*>(t.data);
        for (int64_t k = first; k < last; ++k)
          tensor_partial[k] = sum_squares(x, k * kBlock, std::min(t.count, (k + 1) * kBlock));
        return WPM_OK;
      });
    });
    tensor_partial += block_count(t.count);
  }
  double sum = 0;
  for (double s : partial) sum += s;
  out[0] = float(std::sqrt(sum));
  return WPM_OK;
}

wpm_status CpuBackend::scale_check_finite(const TensorRef* tensors, int64_t count, float scale, float* found_inf) {
  std::vector<char> bad(size_t(pool_.size()), 0);  // one flag per chunk: no shared writes
  for (int64_t ti = 0; ti < count; ++ti) {
    const TensorRef& t = tensors[ti];
    pool_.parallel_for(t.count, kBlock, [&](int64_t begin, int64_t end, int chunk) {
      dispatch_float(t.dtype, [&](auto tag) {
        auto* x = static_cast<decltype(tag)*>(t.data);
        if (scale_range(x, begin, end, scale)) bad[size_t(chunk)] = 1;
        return WPM_OK;
      });
    });
  }
  bool any = false;
  for (char b : bad) any = any || b;
  found_inf[0] = any ? 1.0f : 0.0f;
  return WPM_OK;
}

// The same sums in the same order as the device kernel (pair_metrics.cu): float differences added in double.
wpm_status CpuBackend::pair_metrics(const float* rewards, const float* loss, int64_t pairs, float* metrics) {
  double correct = 0.0, margin = 0.0;
  for (int64_t i = 0; i < pairs; ++i) {
    const float delta = rewards[i] - rewards[pairs + i];
    correct += delta > 0.0f ? 1.0 : 0.0;
    margin += double(delta);
  }
  metrics[0] = float(double(metrics[0]) + double(loss[0]) * double(pairs));
  metrics[1] = float(double(metrics[1]) + correct);
  metrics[2] = float(double(metrics[2]) + margin);
  return WPM_OK;
}

}  // namespace wpm
