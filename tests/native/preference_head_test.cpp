// The fused preference head (wpm_preference_head_fwd / _bwd) on cpu and emu: rewards, loss
// and every gradient against a float64 reference written here, for every dtype and
// activation, odd d and h, more rows than one tile, with and without pair weights and a
// loss; the two backends against each other; and the argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend_param.h"
#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;

struct Shape {
  int64_t b, d, h;
  bool loss, weighted;
};

// Host inputs, already rounded to the storage dtype.
struct Inputs {
  Shape s;
  wpm_dtype dtype;
  wpm_head_activation act;
  float eps = 1e-6f, margin = 0.25f, dloss = 0.75f;
  std::vector<float> x, g, w1, b1, w2, b2, weights, drewards;
  std::vector<float> dx0, dg0, dw10, db10, dw20, db20;  // gradients before the call (they accumulate)
};

Inputs make_inputs(Shape s, wpm_dtype dtype, wpm_head_activation act, uint32_t seed) {
  using wpm_test::random_values;
  Inputs in{s, dtype, act};
  const size_t b = size_t(s.b), d = size_t(s.d), h = size_t(s.h);
  const float scale = 1.5f / std::sqrt(float(d));
  in.x = random_values(b * d, seed, -2, 2, dtype);
  in.g = random_values(d, seed + 1, 0.5f, 1.5f, dtype);
  in.w1 = random_values(h * d, seed + 2, -scale, scale, dtype);
  in.b1 = random_values(h, seed + 3, -0.5f, 0.5f, dtype);
  in.w2 = random_values(h, seed + 4, -0.3f, 0.3f, dtype);
  in.b2 = random_values(1, seed + 5, -0.5f, 0.5f, dtype);
  in.weights = s.weighted ? random_values(b / 2, seed + 6, 0.0f, 2.0f) : std::vector<float>{};
  in.drewards = random_values(b, seed + 7, -1, 1);
  in.dg0 = random_values(d, seed + 8, -0.1f, 0.1f, dtype);
  in.dw10 = random_values(h * d, seed + 9, -0.1f, 0.1f, dtype);
  in.db10 = random_values(h, seed + 10, -0.1f, 0.1f, dtype);
  in.dw20 = random_values(h, seed + 11, -0.1f, 0.1f, dtype);
  in.db20 = random_values(1, seed + 12, -0.1f, 0.1f, dtype);
  return in;
}

// ---------------------------------------------------------------- float64 reference

double act_ref(wpm_head_activation a, double v) {
  if (a == WPM_HEAD_RELU) return std::max(v, 0.0);
  if (a == WPM_HEAD_GELU_EXACT) return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
  return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
}

// The derivative by a central difference of act_ref (h = 1e-6: ~1e-10 error in float64),
// so the reference does not share a derivative formula with the code under test.
double act_slope_ref(wpm_head_activation a, double v) {
  if (a == WPM_HEAD_RELU) return v > 0 ? 1 : 0;
  const double e = 1e-6;
  return (act_ref(a, v + e) - act_ref(a, v - e)) / (2 * e);
}

struct Reference {
  std::vector<double> rewards, drewards, dx, dg, dw1, db1, dw2;
  double loss = 0, db2 = 0;
};

Reference reference(const Inputs& in) {
  const int64_t B = in.s.b, D = in.s.d, H = in.s.h, P = in.s.loss ? B / 2 : 0;
  Reference r;
  std::vector<double> rstd(B), n(B * D), hid(B * H);
  r.rewards.assign(B, 0);
  for (int64_t b = 0; b < B; ++b) {
    double ss = 0;
    for (int64_t k = 0; k < D; ++k) ss += double(in.x[b * D + k]) * in.x[b * D + k];
    rstd[b] = 1 / std::sqrt(ss / D + in.eps);
    for (int64_t k = 0; k < D; ++k) n[b * D + k] = in.x[b * D + k] * rstd[b] * in.g[k];
    double reward = in.b2[0];
    for (int64_t j = 0; j < H; ++j) {
      double v = in.b1[j];
      for (int64_t k = 0; k < D; ++k) v += double(in.w1[j * D + k]) * n[b * D + k];
      hid[b * H + j] = v;
      reward += in.w2[j] * act_ref(in.act, v);
    }
    r.rewards[b] = reward;
  }
  // d loss / d reward from the definition: loss = sum w_i softplus(-(c_i - r_i - m)) / sum w.
  r.drewards.assign(B, 0);
  if (P > 0) {
    double wsum = 0, lsum = 0;
    for (int64_t i = 0; i < P; ++i) {
      const double w = in.weights.empty() ? 1 : in.weights[i];
      const double delta = r.rewards[i] - r.rewards[P + i] - in.margin;
      lsum += w * std::log1p(std::exp(-delta));
      wsum += w;
    }
    r.loss = lsum / wsum;
    for (int64_t i = 0; i < P; ++i) {
      const double w = in.weights.empty() ? 1 : in.weights[i];
      const double delta = r.rewards[i] - r.rewards[P + i] - in.margin;
      const double g = in.dloss * w * (-1 / (1 + std::exp(delta))) / wsum;
      r.drewards[i] = g;
      r.drewards[P + i] = -g;
    }
  } else {
    for (int64_t b = 0; b < B; ++b) r.drewards[b] = in.drewards[b];
  }
  // Backward by the chain rule, term by term.
  std::vector<double> dn(B * D, 0.0);
  r.dw1.assign(in.dw10.begin(), in.dw10.end());
  r.db1.assign(in.db10.begin(), in.db10.end());
  r.dw2.assign(in.dw20.begin(), in.dw20.end());
  r.dg.assign(in.dg0.begin(), in.dg0.end());
  r.db2 = in.db20[0];
  r.dx.assign(B * D, 0);
  for (int64_t b = 0; b < B; ++b) {
    const double dr = r.drewards[b];
    r.db2 += dr;
    for (int64_t j = 0; j < H; ++j) {
      const double v = hid[b * H + j];
      r.dw2[j] += dr * act_ref(in.act, v);
      const double dh = dr * in.w2[j] * act_slope_ref(in.act, v);
      r.db1[j] += dh;
      for (int64_t k = 0; k < D; ++k) {
        r.dw1[j * D + k] += dh * n[b * D + k];
        dn[b * D + k] += dh * in.w1[j * D + k];
      }
    }
    // y = x rstd g: dx_k = rstd g_k dn_k + sum_i dn_i g_i x_i d(rstd)/dx_k, d(rstd)/dx_k = -rstd^3 x_k / D.
    double dot = 0;
    for (int64_t k = 0; k < D; ++k) dot += dn[b * D + k] * in.g[k] * in.x[b * D + k];
    for (int64_t k = 0; k < D; ++k) {
      r.dx[b * D + k] = rstd[b] * in.g[k] * dn[b * D + k] - dot * std::pow(rstd[b], 3) * in.x[b * D + k] / D;
      r.dg[k] += dn[b * D + k] * in.x[b * D + k] * rstd[b];
    }
  }
  return r;
}

// ---------------------------------------------------------------- the op

struct Outputs {
  std::vector<float> rewards, drewards, dx, dg, dw1, db1, dw2, db2;
  float loss = 0;
};

Outputs run(wpm_context* ctx, const Inputs& in) {
  const size_t B = size_t(in.s.b), D = size_t(in.s.d), H = size_t(in.s.h), P = in.s.loss ? B / 2 : 0;
  const wpm_dtype t = in.dtype;
  Buffer x(ctx, t, in.x), g(ctx, t, in.g), w1(ctx, t, in.w1), b1(ctx, t, in.b1), w2(ctx, t, in.w2), b2(ctx, t, in.b2);
  Buffer weights(ctx, WPM_F32, in.weights.empty() ? std::vector<float>(1, 1.0f) : in.weights);
  Buffer rewards(ctx, WPM_F32, B), saved(ctx, WPM_F32, B * (H + 1)), loss(ctx, WPM_F32, 1);
  Buffer drewards(ctx, WPM_F32, in.drewards), dx(ctx, t, B * D);
  Buffer dg(ctx, t, in.dg0), dw1(ctx, t, in.dw10), db1(ctx, t, in.db10), dw2(ctx, t, in.dw20), db2(ctx, t, in.db20);
  rewards.poison();
  saved.poison();
  loss.poison();
  dx.poison();
  if (P > 0) drewards.poison();
  wpm_preference_head_params p{};
  p.struct_size = sizeof p;
  p.b = in.s.b, p.d = in.s.d, p.h = in.s.h, p.activation = in.act, p.eps = in.eps;
  p.pairs = int64_t(P), p.margin = in.margin, p.dloss = in.dloss;
  p.x = x, p.norm_weight = g, p.w1 = w1, p.b1 = b1, p.w2 = w2, p.b2 = b2;
  p.weights = in.weights.empty() ? nullptr : weights.get();
  p.rewards = rewards, p.saved = saved, p.loss = P > 0 ? loss.get() : nullptr;
  p.drewards = drewards, p.dx = dx, p.dnorm_weight = dg, p.dw1 = dw1, p.db1 = db1, p.dw2 = dw2, p.db2 = db2;
  EXPECT_EQ(wpm_preference_head_fwd(ctx, &p), WPM_OK) << wpm_last_error();
  EXPECT_EQ(wpm_preference_head_bwd(ctx, &p), WPM_OK) << wpm_last_error();
  Outputs o{rewards.download(), drewards.download(), dx.download(), dg.download(), dw1.download(),
            db1.download(), dw2.download(), db2.download()};
  if (P > 0) o.loss = loss.download()[0];
  return o;
}

// Relative to the tensor's largest reference value: storage rounding of f16/bf16 dominates;
// the f32 bound covers fp32 sums over d and h in another order than float64's.
double tolerance(wpm_dtype dtype) { return dtype == WPM_BF16 ? 2e-2 : dtype == WPM_F16 ? 4e-3 : 1e-4; }

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (double v : want) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * scale + 1e-7) << what << "[" << i << "]";
}

void expect_matches_reference(const Outputs& o, const Reference& r, const Inputs& in) {
  // The rewards and the loss leave the op in fp32: only the fp32 math's error, whatever the storage.
  const double tol = tolerance(in.dtype);
  expect_close(o.rewards, r.rewards, 1e-4, "rewards");
  if (in.s.loss) EXPECT_NEAR(o.loss, r.loss, 1e-4 * std::max(1.0, std::fabs(r.loss))) << "loss";
  expect_close(o.drewards, r.drewards, 1e-4, "drewards");
  expect_close(o.dx, r.dx, tol, "dx");
  expect_close(o.dg, r.dg, tol, "dnorm_weight");
  expect_close(o.dw1, r.dw1, tol, "dw1");
  expect_close(o.db1, r.db1, tol, "db1");
  expect_close(o.dw2, r.dw2, tol, "dw2");
  expect_close(o.db2, {r.db2}, tol, "db2");
}

const wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16};
const wpm_head_activation kActivations[] = {WPM_HEAD_GELU_TANH, WPM_HEAD_GELU_EXACT, WPM_HEAD_RELU};

class PreferenceHead : public wpm_test::HostBackendTest {
 protected:
  wpm_backend backend() const { return GetParam().kind; }
};

TEST_P(PreferenceHead, EveryDtypeAndActivationMatchesFloat64) {
  Context ctx(2, backend());
  uint32_t seed = 100;
  for (wpm_dtype dtype : kDtypes)
    for (wpm_head_activation act : kActivations) {
      SCOPED_TRACE("dtype " + std::to_string(int(dtype)) + " activation " + std::to_string(int(act)));
      const Inputs in = make_inputs({6, 37, 19, true, false}, dtype, act, seed += 20);
      expect_matches_reference(run(ctx, in), reference(in), in);
    }
}

TEST_P(PreferenceHead, WeightsRowTilesAndWideHead) {
  Context ctx(2, backend());
  // 70 rows: three tiles of the device kernel's 32; h = 300: two unit chunks of 256; d odd.
  for (Shape s : {Shape{70, 45, 300, true, true}, Shape{4, 64, 256, true, true}, Shape{2, 1, 1, true, false}}) {
    SCOPED_TRACE("b " + std::to_string(s.b) + " d " + std::to_string(s.d) + " h " + std::to_string(s.h));
    const Inputs in = make_inputs(s, WPM_F32, WPM_HEAD_GELU_TANH, uint32_t(s.b + s.d));
    expect_matches_reference(run(ctx, in), reference(in), in);
  }
}

TEST_P(PreferenceHead, GivenRewardGradientsWithoutLoss) {
  Context ctx(2, backend());
  for (wpm_dtype dtype : kDtypes) {
    const Inputs in = make_inputs({5, 33, 17, false, false}, dtype, WPM_HEAD_RELU, 7);
    expect_matches_reference(run(ctx, in), reference(in), in);
  }
}

TEST_P(PreferenceHead, BadArgumentsNameTheArgument) {
  Context ctx(1, backend());
  const Inputs in = make_inputs({4, 8, 4, true, false}, WPM_F32, WPM_HEAD_RELU, 3);
  Buffer x(ctx, WPM_F32, in.x), g(ctx, WPM_F32, in.g), w1(ctx, WPM_F32, in.w1), b1(ctx, WPM_F32, in.b1),
      w2(ctx, WPM_F32, in.w2), b2(ctx, WPM_F32, in.b2), half_w1(ctx, WPM_BF16, in.w1);
  Buffer rewards(ctx, WPM_F32, 4), saved(ctx, WPM_F32, 4 * 5), loss(ctx, WPM_F32, 1), short_saved(ctx, WPM_F32, 4 * 4);
  auto params = [&] {
    wpm_preference_head_params p{};
    p.struct_size = sizeof p;
    p.b = 4, p.d = 8, p.h = 4, p.pairs = 2, p.activation = WPM_HEAD_RELU;
    p.x = x, p.norm_weight = g, p.w1 = w1, p.b1 = b1, p.w2 = w2, p.b2 = b2;
    p.rewards = rewards, p.saved = saved, p.loss = loss;
    return p;
  };
  wpm_preference_head_params p = params();
  ASSERT_EQ(wpm_preference_head_fwd(ctx, &p), WPM_OK) << wpm_last_error();
  expect_error(wpm_preference_head_fwd(ctx, nullptr), WPM_ERR_INVALID_ARGUMENT, "params");
  p = params(), p.struct_size = 8;
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "params");
  p = params(), p.pairs = 3;
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'pairs'");
  p = params(), p.h = 0;
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'h'");
  p = params(), p.activation = wpm_head_activation(7);
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'activation'");
  p = params(), p.eps = -1;
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'eps'");
  p = params(), p.w1 = half_w1;
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_DTYPE, "w1");
  p = params(), p.saved = short_saved;
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "saved");
  p = params(), p.loss = nullptr;
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "loss");
  p = params(), p.rewards = x;  // an output over an input
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "rewards");
  p = params(), p.b1 = nullptr;
  expect_error(wpm_preference_head_fwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "b1");
  // The backward's own fields.
  Buffer drewards(ctx, WPM_F32, 4), dx(ctx, WPM_F32, 32), dg(ctx, WPM_F32, 8), dw1(ctx, WPM_F32, 32),
      db1(ctx, WPM_F32, 4), dw2(ctx, WPM_F32, 4), db2(ctx, WPM_F32, 1);
  auto backward = [&] {
    wpm_preference_head_params q = params();
    q.dloss = 1;
    q.drewards = drewards, q.dx = dx, q.dnorm_weight = dg, q.dw1 = dw1, q.db1 = db1, q.dw2 = dw2, q.db2 = db2;
    return q;
  };
  p = backward();
  ASSERT_EQ(wpm_preference_head_bwd(ctx, &p), WPM_OK) << wpm_last_error();
  p = backward(), p.dloss = NAN;
  expect_error(wpm_preference_head_bwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "'dloss'");
  p = backward(), p.dw1 = dx;  // two outputs over one buffer
  expect_error(wpm_preference_head_bwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "dw1");
  p = backward(), p.dx = nullptr;
  expect_error(wpm_preference_head_bwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "dx");
  p = backward(), p.db2 = x;  // an output over an input
  expect_error(wpm_preference_head_bwd(ctx, &p), WPM_ERR_INVALID_ARGUMENT, "db2");
}

WPM_INSTANTIATE_HOST_BACKENDS(PreferenceHead);

// Why the emu backend cannot run here, or "" when it can.
std::string emu_unavailable() {
  wpm_backend_info info{};
  info.struct_size = sizeof info;
  if (wpm_backend_query(WPM_BACKEND_EMU, &info) != WPM_OK) return wpm_last_error();
  return info.available ? "" : info.reason;
}

// cpu and emu, the same inputs: within the documented tolerance of each other (docs/c-abi.md).
TEST(PreferenceHeadBackends, CpuAndEmuAgree) {
  if (const std::string why = emu_unavailable(); !why.empty()) GTEST_SKIP() << why;
  Context cpu(2, WPM_BACKEND_CPU), emu(2, WPM_BACKEND_EMU);
  for (wpm_dtype dtype : kDtypes) {
    const Inputs in = make_inputs({8, 40, 24, true, true}, dtype, WPM_HEAD_GELU_EXACT, 11);
    const Outputs a = run(cpu, in), b = run(emu, in);
    auto as_double = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
    expect_close(b.rewards, as_double(a.rewards), 1e-4, "rewards");
    EXPECT_NEAR(b.loss, a.loss, 1e-4 * std::max(1.0f, std::fabs(a.loss)));
    expect_close(b.dx, as_double(a.dx), tolerance(dtype), "dx");
    expect_close(b.dw1, as_double(a.dw1), tolerance(dtype), "dw1");
    expect_close(b.dg, as_double(a.dg), tolerance(dtype), "dnorm_weight");
  }
}

// On a device backend the head is one launch each way, and no GEMM.
TEST(PreferenceHeadBackends, OneLaunchEachWayOnEmu) {
  if (const std::string why = emu_unavailable(); !why.empty()) GTEST_SKIP() << why;
  Context emu(1, WPM_BACKEND_EMU);
  const Inputs in = make_inputs({4, 16, 8, true, false}, WPM_F32, WPM_HEAD_GELU_TANH, 21);
  Buffer x(emu, WPM_F32, in.x), g(emu, WPM_F32, in.g), w1(emu, WPM_F32, in.w1), b1(emu, WPM_F32, in.b1),
      w2(emu, WPM_F32, in.w2), b2(emu, WPM_F32, in.b2), rewards(emu, WPM_F32, 4), saved(emu, WPM_F32, 4 * 9),
      loss(emu, WPM_F32, 1), drewards(emu, WPM_F32, 4), dx(emu, WPM_F32, 64), dg(emu, WPM_F32, 16),
      dw1(emu, WPM_F32, 128), db1(emu, WPM_F32, 8), dw2(emu, WPM_F32, 8), db2(emu, WPM_F32, 1);
  wpm_preference_head_params p{};
  p.struct_size = sizeof p;
  p.b = 4, p.d = 16, p.h = 8, p.pairs = 2, p.activation = WPM_HEAD_GELU_TANH, p.dloss = 1;
  p.x = x, p.norm_weight = g, p.w1 = w1, p.b1 = b1, p.w2 = w2, p.b2 = b2;
  p.rewards = rewards, p.saved = saved, p.loss = loss;
  p.drewards = drewards, p.dx = dx, p.dnorm_weight = dg, p.dw1 = dw1, p.db1 = db1, p.dw2 = dw2, p.db2 = db2;
  auto counters = [&] {
    wpm_device_counters c{};
    c.struct_size = sizeof c;
    EXPECT_EQ(wpm_context_device_counters(emu, &c), WPM_OK) << wpm_last_error();
    return c;
  };
  const wpm_device_counters before = counters();
  ASSERT_EQ(wpm_preference_head_fwd(emu, &p), WPM_OK) << wpm_last_error();
  ASSERT_EQ(wpm_preference_head_bwd(emu, &p), WPM_OK) << wpm_last_error();
  const wpm_device_counters after = counters();
  EXPECT_EQ(after.launches - before.launches, 2u);
  EXPECT_EQ(after.gemms - before.gemms, 0u);
  EXPECT_EQ(after.host_waits - before.host_waits, 0u);
}

}  // namespace
