// Bradley-Terry loss on the CPU, all f32 storage.
//
//   delta_i = chosen_i - rejected_i - margin
//   l_i     = softplus(-delta_i) = -log sigmoid(delta_i)
//   loss    = sum_i w_i l_i / sum_i w_i                        (w_i = 1 without weights)
//   dchosen_i = dloss * w_i (sigmoid(delta_i) - 1) / sum w,  drejected_i = -dchosen_i
//
// Stability: softplus(z) = max(z, 0) + log1p(exp(-|z|)) never overflows, and
// sigmoid(delta) - 1 = -sigmoid(-delta) is formed from exp(-|delta|) only, so
// |delta| of hundreds gives finite, accurate values (no 1 - 1 cancellation).
// The per-pair math is in double: P is a batch of pairs (tens to thousands),
// so the cost is nothing next to the model, and the loss keeps full f32
// accuracy even when single terms are tiny.
//
// Determinism: the sums run over fixed blocks of pairs, each summed in order
// in double, then the block sums are added in block order, so the result does
// not depend on the thread count.
//
// Weights live in device memory, so they are checked here (each finite and
// >= 0, sum > 0) before anything is written.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../error.h"
#include "cpu_backend.h"

namespace wpm {

namespace {

constexpr int64_t kBlock = 1 << 14;  // pairs per partial sum

double softplus(double z) { return std::fmax(z, 0.0) + std::log1p(std::exp(-std::fabs(z))); }

// sigmoid(delta) - 1 = -sigmoid(-delta), without cancellation for large delta.
double sigmoid_minus_one(double delta) {
  double e = std::exp(-std::fabs(delta));  // in (0, 1]
  return delta >= 0 ? -e / (1 + e) : -1 / (1 + e);
}

double delta_of(const BtLossArgs& a, int64_t i) {
  return double(a.chosen[i]) - double(a.rejected[i]) - double(a.margin);
}

double weight_of(const BtLossArgs& a, int64_t i) { return a.weights ? double(a.weights[i]) : 1.0; }

wpm_status check_weights(const char* function, const float* weights, int64_t pairs) {
  if (weights == nullptr) return WPM_OK;
  bool any_positive = false;
  for (int64_t i = 0; i < pairs; ++i) {
    float w = weights[i];
    if (!(w >= 0.0f) || !std::isfinite(w))
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "weights",
                           "%s: argument 'weights[%lld]' is %g; each weight must be finite and >= 0",
                           function, (long long)i, double(w));
    any_positive = any_positive || w > 0.0f;
  }
  if (!any_positive)
    return fail_argument(WPM_ERR_INVALID_ARGUMENT, "weights",
                         "%s: argument 'weights' is all zeros; at least one weight must be positive",
                         function);
  return WPM_OK;
}

struct Sums {
  double weighted_loss = 0, weight = 0;
  Sums& operator+=(const Sums& o) {
    weighted_loss += o.weighted_loss;
    weight += o.weight;
    return *this;
  }
};

// Fixed-order sum of term(i) over all pairs.
template <class Term>
Sums block_sums(ThreadPool& pool, int64_t pairs, Term&& term) {
  int64_t blocks = (pairs + kBlock - 1) / kBlock;
  std::vector<Sums> partial(static_cast<size_t>(blocks));
  pool.parallel_for(blocks, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t k = begin; k < end; ++k) {
      Sums sums;
      for (int64_t i = k * kBlock, last = std::min(pairs, (k + 1) * kBlock); i < last; ++i) sums += term(i);
      partial[size_t(k)] = sums;
    }
  });
  Sums total;
  for (const Sums& s : partial) total += s;
  return total;
}

}  // namespace

wpm_status CpuBackend::bt_loss_fwd(const BtLossArgs& args) {
  wpm_status status = check_weights("wpm_bt_loss_fwd", args.weights, args.pairs);
  if (status != WPM_OK) return status;
  Sums sums = block_sums(pool_, args.pairs, [&](int64_t i) {
    double w = weight_of(args, i);
    return Sums{w * softplus(-delta_of(args, i)), w};
  });
  args.loss[0] = float(sums.weighted_loss / sums.weight);
  return WPM_OK;
}

wpm_status CpuBackend::bt_loss_bwd(const BtLossArgs& args) {
  wpm_status status = check_weights("wpm_bt_loss_bwd", args.weights, args.pairs);
  if (status != WPM_OK) return status;
  double weight_sum = double(args.pairs);
  if (args.weights)
    weight_sum = block_sums(pool_, args.pairs, [&](int64_t i) { return Sums{0, args.weights[i]}; }).weight;
  const double scale = double(args.dloss) / weight_sum;
  pool_.parallel_for(args.pairs, kBlock, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      float g = float(scale * weight_of(args, i) * sigmoid_minus_one(delta_of(args, i)));
      args.dchosen[i] = g;
      args.drejected[i] = -g;
    }
  });
  return WPM_OK;
}

}  // namespace wpm
