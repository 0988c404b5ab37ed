// Bradley-Terry loss: forward and backward against a float64 reference, with
// and without weights and margin, large |delta|, many pairs over threads,
// gradients vs finite differences, and the argument checks.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;

// -log sigmoid(delta) in float64, written for the reference only.
double ref_neg_log_sigmoid(double delta) {
  return delta > 0 ? std::log1p(std::exp(-delta)) : -delta + std::log1p(std::exp(delta));
}

double ref_sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

struct Pairs {
  std::vector<double> chosen, rejected, weights;  // weights empty = unweighted
  double margin = 0;
  size_t size() const { return chosen.size(); }
  double weight(size_t i) const { return weights.empty() ? 1.0 : weights[i]; }
  double weight_sum() const {
    double s = 0;
    for (size_t i = 0; i < size(); ++i) s += weight(i);
    return s;
  }
};

double ref_loss(const Pairs& p) {
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i)
    sum += p.weight(i) * ref_neg_log_sigmoid(p.chosen[i] - p.rejected[i] - p.margin);
  return sum / p.weight_sum();
}

std::vector<double> ref_dchosen(const Pairs& p, double dloss) {
  std::vector<double> d(p.size());
  const double weight_sum = p.weight_sum();
  for (size_t i = 0; i < p.size(); ++i)
    d[i] = dloss * p.weight(i) * (ref_sigmoid(p.chosen[i] - p.rejected[i] - p.margin) - 1) / weight_sum;
  return d;
}

std::vector<double> negated(std::vector<double> v) {
  for (double& x : v) x = -x;
  return v;
}

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }
std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

Pairs random_pairs(size_t n, uint32_t seed, bool weighted, float margin, float spread = 3.0f) {
  Pairs p;
  p.chosen = to_double(wpm_test::random_values(n, seed, -spread, spread));
  p.rejected = to_double(wpm_test::random_values(n, seed + 1, -spread, spread));
  if (weighted) {
    p.weights = to_double(wpm_test::random_values(n, seed + 2, 0.1f, 2.0f));
    p.weights[n / 2] = 0;  // a zero weight is allowed
  }
  p.margin = margin;
  return p;
}


// Device buffers for one set of pairs plus the outputs, and the params pointing at them.
struct Device {
  Buffer chosen, rejected, weights, loss, dchosen, drejected;
  wpm_bt_loss_params params{};

  Device(wpm_context* ctx, const Pairs& p)
      : chosen(ctx, WPM_F32, to_float(p.chosen)),
        rejected(ctx, WPM_F32, to_float(p.rejected)),
        weights(ctx, WPM_F32, p.weights.empty() ? std::vector<float>(p.size(), 1.0f) : to_float(p.weights)),
        loss(ctx, WPM_F32, 1),
        dchosen(ctx, WPM_F32, p.size()),
        drejected(ctx, WPM_F32, p.size()) {
    params.struct_size = sizeof params;
    params.pairs = int64_t(p.size());
    params.margin = float(p.margin);
    params.chosen = chosen;
    params.rejected = rejected;
    params.weights = p.weights.empty() ? nullptr : weights.get();
    params.loss = loss;
    params.dloss = 1.0f;
    params.dchosen = dchosen;
    params.drejected = drejected;
    loss.poison();
    dchosen.poison();
    drejected.poison();
  }
};

class BtLoss : public ::testing::TestWithParam<bool> {  // weighted?
};

TEST_P(BtLoss, ForwardMatchesReference) {
  Context ctx;
  Pairs p = random_pairs(37, 101, GetParam(), 0.5f);
  Device d(ctx, p);
  WPM_ASSERT_OK(wpm_bt_loss_fwd(ctx, &d.params));
  EXPECT_LE(wpm_test::rel_error(d.loss.download(), {ref_loss(p)}), wpm_test::tolerance(WPM_F32, true));
}

TEST_P(BtLoss, BackwardMatchesReference) {
  Context ctx;
  Pairs p = random_pairs(41, 201, GetParam(), -0.25f);
  Device d(ctx, p);
  d.params.dloss = 1.7f;
  WPM_ASSERT_OK(wpm_bt_loss_bwd(ctx, &d.params));
  std::vector<double> ref = ref_dchosen(p, 1.7);
  EXPECT_LE(wpm_test::rel_error(d.dchosen.download(), ref), wpm_test::tolerance(WPM_F32, false));
  EXPECT_LE(wpm_test::rel_error(d.drejected.download(), negated(ref)), wpm_test::tolerance(WPM_F32, false));
}

TEST_P(BtLoss, GradientMatchesFiniteDifferencesOfTheReference) {
  Context ctx;
  Pairs p = random_pairs(9, 301, GetParam(), 0.75f);
  Device d(ctx, p);
  WPM_ASSERT_OK(wpm_bt_loss_bwd(ctx, &d.params));
  auto numeric_chosen = wpm_test::finite_difference(p.chosen, [&](const std::vector<double>& x) {
    Pairs q = p;
    q.chosen = x;
    return ref_loss(q);
  });
  auto numeric_rejected = wpm_test::finite_difference(p.rejected, [&](const std::vector<double>& x) {
    Pairs q = p;
    q.rejected = x;
    return ref_loss(q);
  });
  EXPECT_LE(wpm_test::rel_error(d.dchosen.download(), numeric_chosen), wpm_test::tolerance(WPM_F32, false));
  EXPECT_LE(wpm_test::rel_error(d.drejected.download(), numeric_rejected), wpm_test::tolerance(WPM_F32, false));
}

TEST_P(BtLoss, LargeDeltasStayFiniteAndAccurate) {
  Context ctx;
  Pairs p = random_pairs(8, 401, GetParam(), 0.0f);
  const double deltas[] = {100, -100, 60, -60, 95.5, -30, 250, -250};
  for (size_t i = 0; i < p.size(); ++i) p.rejected[i] = float(p.chosen[i] - deltas[i]);  // as stored
  Device d(ctx, p);
  WPM_ASSERT_OK(wpm_bt_loss_fwd(ctx, &d.params));
  WPM_ASSERT_OK(wpm_bt_loss_bwd(ctx, &d.params));
  EXPECT_LE(wpm_test::rel_error(d.loss.download(), {ref_loss(p)}), wpm_test::tolerance(WPM_F32, true));
  std::vector<double> ref = ref_dchosen(p, 1.0);
  EXPECT_LE(wpm_test::rel_error(d.dchosen.download(), ref), wpm_test::tolerance(WPM_F32, false));
  EXPECT_LE(wpm_test::rel_error(d.drejected.download(), negated(ref)), wpm_test::tolerance(WPM_F32, false));
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutWeights, BtLoss, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "weighted" : "unweighted"; });

TEST(BtLossThreads, ManyPairsMatchTheReferenceWithTheSameBitsForAnyThreadCount) {
  Pairs p = random_pairs(40009, 501, true, 0.1f);
  std::vector<float> first;
  for (int threads : {1, 4}) {
    Context ctx(threads);
    Device d(ctx, p);
    WPM_ASSERT_OK(wpm_bt_loss_fwd(ctx, &d.params));
    WPM_ASSERT_OK(wpm_bt_loss_bwd(ctx, &d.params));
    EXPECT_LE(wpm_test::rel_error(d.loss.download(), {ref_loss(p)}), wpm_test::tolerance(WPM_F32, true));
    EXPECT_LE(wpm_test::rel_error(d.dchosen.download(), ref_dchosen(p, 1.0)), wpm_test::tolerance(WPM_F32, false));
    if (first.empty()) {
      first = d.loss.download();
    } else {
      std::vector<float> again = d.loss.download();
      EXPECT_EQ(std::memcmp(first.data(), again.data(), sizeof(float)), 0) << first[0] << " vs " << again[0];
    }
  }
}

class BtLossArgs : public ::testing::Test {
 protected:
  Context ctx;
  Pairs pairs = random_pairs(6, 601, true, 0.0f);
  Device d{ctx, pairs};
};

TEST_F(BtLossArgs, NullParamsAndBadStructSizeAreNamed) {
  expect_error(wpm_bt_loss_fwd(ctx, nullptr), WPM_ERR_INVALID_ARGUMENT, "'params'");
  d.params.struct_size = sizeof(size_t);
  expect_error(wpm_bt_loss_fwd(ctx, &d.params), WPM_ERR_INVALID_ARGUMENT, "struct_size");
  expect_error(wpm_bt_loss_bwd(ctx, &d.params), WPM_ERR_INVALID_ARGUMENT, "struct_size");
}

TEST_F(BtLossArgs, NonPositivePairsAreNamed) {
  for (int64_t bad : {int64_t(0), int64_t(-3)}) {
    d.params.pairs = bad;
    expect_error(wpm_bt_loss_fwd(ctx, &d.params), WPM_ERR_INVALID_ARGUMENT, "'pairs'");
  }
}

TEST_F(BtLossArgs, NullBuffersAreNamed) {
  wpm_bt_loss_params p = d.params;
  p.chosen = nullptr;
  expect_error(wpm_bt_loss_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'chosen'");
  p = d.params;
  p.loss = nullptr;
  expect_error(wpm_bt_loss_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'loss'");
  WPM_ASSERT_OK(wpm_bt_loss_bwd(ctx, &p));  // the backward does not need loss
  p = d.params;
  p.dchosen = nullptr;
  expect_error(wpm_bt_loss_bwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'dchosen'");
  p = d.params;
  p.drejected = nullptr;
  expect_error(wpm_bt_loss_bwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'drejected'");
  WPM_ASSERT_OK(wpm_bt_loss_fwd(ctx, &p));  // the forward does not need the gradients
}

TEST_F(BtLossArgs, WrongDtypeAndTooSmallBuffersAreNamed) {
  Buffer f16(ctx, WPM_F16, pairs.size()), short_buffer(ctx, WPM_F32, pairs.size() - 1);
  wpm_bt_loss_params p = d.params;
  p.rejected = f16;
  expect_error(wpm_bt_loss_fwd(ctx, &p), WPM_ERR_DTYPE, "'rejected'");
  p = d.params;
  p.weights = short_buffer;
  expect_error(wpm_bt_loss_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'weights'");
  p = d.params;
  p.drejected = short_buffer;
  expect_error(wpm_bt_loss_bwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'drejected'");
}

TEST_F(BtLossArgs, NonFiniteScalarsAreNamed) {
  wpm_bt_loss_params p = d.params;
  p.margin = NAN;
  expect_error(wpm_bt_loss_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'margin'");
  p = d.params;
  p.dloss = INFINITY;
  expect_error(wpm_bt_loss_bwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'dloss'");
}

TEST_F(BtLossArgs, NegativeOrAllZeroWeightsAreNamedAndNothingIsWritten) {
  std::vector<float> w(pairs.size(), 1.0f);
  w[3] = -0.5f;
  d.weights.upload(w);
  expect_error(wpm_bt_loss_fwd(ctx, &d.params), WPM_ERR_INVALID_ARGUMENT, "'weights[3]' is -0.5");
  expect_error(wpm_bt_loss_bwd(ctx, &d.params), WPM_ERR_INVALID_ARGUMENT, "'weights[3]' is -0.5");
  w[3] = NAN;
  d.weights.upload(w);
  expect_error(wpm_bt_loss_fwd(ctx, &d.params), WPM_ERR_INVALID_ARGUMENT, "'weights[3]'");
  d.weights.upload(std::vector<float>(pairs.size(), 0.0f));
  expect_error(wpm_bt_loss_fwd(ctx, &d.params), WPM_ERR_INVALID_ARGUMENT, "'weights'");
  expect_error(wpm_bt_loss_bwd(ctx, &d.params), WPM_ERR_INVALID_ARGUMENT, "'weights'");
  EXPECT_TRUE(std::isnan(d.loss.download()[0]));
  for (float v : d.dchosen.download()) EXPECT_TRUE(std::isnan(v));
}

}  // namespace
