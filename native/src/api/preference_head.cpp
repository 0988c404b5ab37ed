// Fused preference head entry points: the final norm, Linear(d, h) -> act -> Linear(h, 1) and the
// Bradley-Terry loss in one op each way. The weights' values are checked by the backend as the loss's
// are (they live in device memory); everything else here.
#include <vector>

#include "../validate.h"

namespace {

constexpr int64_t kMaxRows = (int64_t(1) << 31) - 1;

struct Sizes {
  size_t rows = 0, x = 0, w1 = 0, saved = 0, pairs = 0;
};

// params, its struct_size, the shape, the activation and the buffers both directions read.
Sizes check_common(wpm::Checker& check, const wpm_preference_head_params* params) {
  Sizes n;
  check.not_null("params", params);
  if (!check.ok()) return n;
  check.struct_size("params", params->struct_size, sizeof(wpm_preference_head_params));
  if (!check.ok()) return n;  // the fields below may lie past a smaller struct
  const wpm_preference_head_params& p = *params;
  check.in_range("b", p.b, 1, kMaxRows).positive("d", p.d).positive("h", p.h);
  if (!check.ok()) return n;
  check.require(p.activation == WPM_HEAD_GELU_TANH || p.activation == WPM_HEAD_GELU_EXACT ||
                    p.activation == WPM_HEAD_RELU,
                "activation", "is %d; it must be WPM_HEAD_GELU_TANH, WPM_HEAD_GELU_EXACT or WPM_HEAD_RELU",
                int(p.activation))
      .non_negative("pairs", p.pairs);
  if (check.ok() && p.pairs > 0)
    check.require(p.b == 2 * p.pairs, "pairs", "is %lld; with a loss b (%lld) must be 2 * pairs", (long long)p.pairs,
                  (long long)p.b);
  if (!check.ok()) return n;
  n.rows = size_t(p.b);
  n.pairs = size_t(p.pairs);
  n.x = check.count("b * d", {p.b, p.d});
  n.w1 = check.count("h * d", {p.h, p.d});
  n.saved = check.count("b * (h + 1)", {p.b, p.h + 1});
  if (!check.ok()) return n;
  check.finite("margin", p.margin)
      .buffer("x", p.x, n.x, wpm::kFloatTypes)
      .buffer("norm_weight", p.norm_weight, size_t(p.d), wpm::kFloatTypes)
      .buffer("w1", p.w1, n.w1, wpm::kFloatTypes)
      .buffer("b1", p.b1, size_t(p.h), wpm::kFloatTypes)
      .buffer("w2", p.w2, size_t(p.h), wpm::kFloatTypes)
      .buffer("b2", p.b2, 1, wpm::kFloatTypes)
      .same_dtype("norm_weight", p.norm_weight, "x", p.x)
      .same_dtype("w1", p.w1, "x", p.x)
      .same_dtype("b1", p.b1, "x", p.x)
      .same_dtype("w2", p.w2, "x", p.x)
      .same_dtype("b2", p.b2, "x", p.x)
      .buffer("saved", p.saved, n.saved, wpm::kF32);
  if (check.ok() && p.pairs > 0) check.optional_buffer("weights", p.weights, n.pairs, wpm::kF32);
  return n;
}

// The inputs both directions read (x, the parameters; weights with pairs).
std::vector<wpm::Checker::Span> parameters(const wpm_preference_head_params& p, const Sizes& n) {
  return {{"x", p.x, n.x},   {"norm_weight", p.norm_weight, size_t(p.d)},
          {"w1", p.w1, n.w1}, {"b1", p.b1, size_t(p.h)},
          {"w2", p.w2, size_t(p.h)}, {"b2", p.b2, 1},
          {"weights", p.pairs > 0 ? p.weights : nullptr, n.pairs}};
}

wpm::PreferenceHeadArgs args_of(const wpm_preference_head_params& p) {
  wpm::PreferenceHeadArgs a{};
  a.b = p.b;
  a.d = p.d;
  a.h = p.h;
  a.pairs = p.pairs;
  a.activation = p.activation;
  a.eps = p.eps;
  a.margin = p.margin;
  a.x = p.x->data();
  a.norm_weight = p.norm_weight->data();
  a.w1 = p.w1->data();
  a.b1 = p.b1->data();
  a.w2 = p.w2->data();
  a.b2 = p.b2->data();
  a.weights = p.pairs > 0 && p.weights ? static_cast<const float*>(p.weights->data()) : nullptr;
  a.saved = static_cast<float*>(p.saved->data());
  a.dtype = p.x->dtype;
  return a;
}

}  // namespace

extern "C" {

wpm_status wpm_preference_head_fwd(wpm_context* context, const wpm_preference_head_params* params) {
  return wpm::guarded("wpm_preference_head_fwd", [&] {
    wpm::Checker check("wpm_preference_head_fwd", context);
    Sizes n = check_common(check, params);
    if (!check.ok()) return check.status();
    const wpm_preference_head_params& p = *params;
    check.finite("eps", p.eps).require(p.eps >= 0, "eps", "is %g; it must not be negative", double(p.eps));
    check.buffer("rewards", p.rewards, n.rows, wpm::kF32);
    if (check.ok() && p.pairs > 0) check.buffer("loss", p.loss, 1, wpm::kF32);
    if (!check.ok()) return check.status();
    check.outputs_disjoint({{"rewards", p.rewards, n.rows},
                            {"saved", p.saved, n.saved},
                            {"loss", p.pairs > 0 ? p.loss : nullptr, 1}},
                           parameters(p, n));
    if (!check.ok()) return check.status();
    wpm::PreferenceHeadArgs a = args_of(p);
    a.rewards = static_cast<float*>(p.rewards->data());
    a.loss = p.pairs > 0 ? static_cast<float*>(p.loss->data()) : nullptr;
    return check.backend().preference_head_fwd(a);
  });
}

wpm_status wpm_preference_head_bwd(wpm_context* context, const wpm_preference_head_params* params) {
  return wpm::guarded("wpm_preference_head_bwd", [&] {
    wpm::Checker check("wpm_preference_head_bwd", context);
    Sizes n = check_common(check, params);
    if (!check.ok()) return check.status();
    const wpm_preference_head_params& p = *params;
    const size_t d = size_t(p.d), h = size_t(p.h);
    check.buffer("drewards", p.drewards, n.rows, wpm::kF32)
        .buffer("dx", p.dx, n.x, wpm::kFloatTypes)
        .buffer("dnorm_weight", p.dnorm_weight, d, wpm::kFloatTypes)
        .buffer("dw1", p.dw1, n.w1, wpm::kFloatTypes)
        .buffer("db1", p.db1, h, wpm::kFloatTypes)
        .buffer("dw2", p.dw2, h, wpm::kFloatTypes)
        .buffer("db2", p.db2, 1, wpm::kFloatTypes)
        .same_dtype("dx", p.dx, "x", p.x)
        .same_dtype("dnorm_weight", p.dnorm_weight, "x", p.x)
        .same_dtype("dw1", p.dw1, "x", p.x)
        .same_dtype("db1", p.db1, "x", p.x)
        .same_dtype("dw2", p.dw2, "x", p.x)
        .same_dtype("db2", p.db2, "x", p.x);
    if (check.ok() && p.pairs > 0) check.finite("dloss", p.dloss).buffer("rewards", p.rewards, n.rows, wpm::kF32);
    if (!check.ok()) return check.status();
    std::vector<wpm::Checker::Span> inputs = parameters(p, n);
    inputs.push_back({"saved", p.saved, n.saved});
    std::vector<wpm::Checker::Span> outputs = {{"dx", p.dx, n.x},          {"dnorm_weight", p.dnorm_weight, d},
                                               {"dw1", p.dw1, n.w1},       {"db1", p.db1, h},
                                               {"dw2", p.dw2, h},          {"db2", p.db2, 1}};
    if (p.pairs > 0) {
      inputs.push_back({"rewards", p.rewards, n.rows});
      outputs.insert(outputs.begin(), {"drewards", p.drewards, n.rows});
    } else {
      inputs.push_back({"drewards", p.drewards, n.rows});
    }
    check.outputs_disjoint(outputs, inputs);
    if (!check.ok()) return check.status();
    wpm::PreferenceHeadArgs a = args_of(p);
    a.dloss = p.pairs > 0 ? p.dloss : 0.0f;
    a.rewards = p.pairs > 0 ? static_cast<float*>(p.rewards->data()) : nullptr;
    a.drewards = static_cast<float*>(p.drewards->data());
    a.dx = p.dx->data();
    a.dnorm_weight = p.dnorm_weight->data();
    a.dw1 = p.dw1->data();
    a.db1 = p.db1->data();
    a.dw2 = p.dw2->data();
    a.db2 = p.db2->data();
    return check.backend().preference_head_bwd(a);
  });
}

}  // extern "C"
