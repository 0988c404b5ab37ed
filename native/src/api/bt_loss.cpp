// Bradley-Terry loss entry points (f32 only). The weight values are checked by
// the backend (they live in device memory); everything else is checked here.
#include <vector>

#include "../validate.h"

namespace {

// What forward and backward share: the struct, the pair count, the inputs.
// Returns the args with the input pointers filled in (valid when check.ok()).
wpm::BtLossArgs check_common(wpm::Checker& check, const wpm_bt_loss_params* p) {
  wpm::BtLossArgs args{};
  check.not_null("params", p);
  if (!check.ok()) return args;
  check.struct_size("params", p->struct_size, sizeof(wpm_bt_loss_params)).positive("pairs", p->pairs);
  if (!check.ok()) return args;
  size_t pairs = size_t(p->pairs);
  check.finite("margin", p->margin)
      .buffer("chosen", p->chosen, pairs, wpm::kF32)
      .buffer("rejected", p->rejected, pairs, wpm::kF32)
      .optional_buffer("weights", p->weights, pairs, wpm::kF32);
  if (!check.ok()) return args;
  args.pairs = p->pairs;
  args.margin = p->margin;
  args.chosen = static_cast<const float*>(p->chosen->data());
  args.rejected = static_cast<const float*>(p->rejected->data());
  args.weights = p->weights ? static_cast<const float*>(p->weights->data()) : nullptr;
  return args;
}

// What both directions read (weights may be NULL: it then touches nothing).
std::vector<wpm::Checker::Span> inputs(const wpm_bt_loss_params& p) {
  const size_t pairs = size_t(p.pairs);
  return {{"chosen", p.chosen, pairs}, {"rejected", p.rejected, pairs}, {"weights", p.weights, pairs}};
}

}  // namespace

extern "C" {

wpm_status wpm_bt_loss_fwd(wpm_context* context, const wpm_bt_loss_params* params) {
  return wpm::guarded("wpm_bt_loss_fwd", [&] {
    wpm::Checker check("wpm_bt_loss_fwd", context);
    wpm::BtLossArgs args = check_common(check, params);
    if (check.ok())
      check.buffer("loss", params->loss, 1, wpm::kF32).disjoint({"loss", params->loss, 1}, inputs(*params));
    if (!check.ok()) return check.status();
    args.loss = static_cast<float*>(params->loss->data());
    return check.backend().bt_loss_fwd(args);
  });
}

wpm_status wpm_bt_loss_bwd(wpm_context* context, const wpm_bt_loss_params* params) {
  return wpm::guarded("wpm_bt_loss_bwd", [&] {
    wpm::Checker check("wpm_bt_loss_bwd", context);
    wpm::BtLossArgs args = check_common(check, params);
    if (check.ok())
      check.finite("dloss", params->dloss)
          .buffer("dchosen", params->dchosen, size_t(params->pairs), wpm::kF32)
          .buffer("drejected", params->drejected, size_t(params->pairs), wpm::kF32)
          .outputs_disjoint({{"dchosen", params->dchosen, size_t(params->pairs)},
                             {"drejected", params->drejected, size_t(params->pairs)}},
                            inputs(*params));
    if (!check.ok()) return check.status();
    args.dloss = params->dloss;
    args.dchosen = static_cast<float*>(params->dchosen->data());
    args.drejected = static_cast<float*>(params->drejected->data());
    return check.backend().bt_loss_bwd(args);
  });
}

}  // extern "C"
