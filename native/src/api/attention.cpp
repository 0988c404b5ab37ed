// Fused causal attention entry points (forward and backward).
// Both check the shared shape arguments here and hand the lengths' values to the
// backend's checked_lengths (a length outside 1..T is reported with its index,
// on a device backend at the next read-back). Without lengths, the backend gets
// an internal all-T array (AttentionArgs.lengths is never null).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../validate.h"

namespace {

// The padding field as the integer the caller stored: a C caller may store any int, and reading an
// out-of-range value through the C++ enum type is undefined.
int64_t stored_padding(const wpm_attention_params& p) {
  std::underlying_type_t<wpm_padding> value;
  std::memcpy(&value, &p.padding, sizeof value);
  return int64_t(value);
}

struct Counts {
  size_t q, kv, lse;
};

// params, the dims, scale, padding, q, k, v and the lengths buffer (not yet its values).
Counts check_shapes(wpm::Checker& check, const wpm_attention_params* params) {
  check.not_null("params", params);
  if (!check.ok()) return {};
  const wpm_attention_params& p = *params;
  check.struct_size("params", p.struct_size, sizeof(wpm_attention_params));
  if (!check.ok()) return {};  // the fields below may lie past a smaller struct
  check.positive("b", p.b).positive("t", p.t).positive("h", p.h).positive("kvh", p.kvh).positive("d", p.d);
  check.in_range("t", p.t, 1, INT32_MAX);  // lengths are i32
  if (check.ok())
    check.require(p.h % p.kvh == 0, "h", "(%lld) is not a multiple of 'kvh' (%lld)", (long long)p.h,
                  (long long)p.kvh);
  check.finite("scale", p.scale).in_range("padding", stored_padding(p), WPM_PAD_RIGHT, WPM_PAD_LEFT);
  Counts counts{check.count("q", {p.b, p.t, p.h, p.d}), check.count("k", {p.b, p.t, p.kvh, p.d}),
                check.count("lse", {p.b, p.h, p.t})};
  check.buffer("q", p.q, counts.q, wpm::kFloatTypes)
      .buffer("k", p.k, counts.kv, wpm::kFloatTypes)
      .buffer("v", p.v, counts.kv, wpm::kFloatTypes)
      .same_dtype("k", p.k, "q", p.q)
      .same_dtype("v", p.v, "q", p.q)
      .optional_buffer("lengths", p.lengths, size_t(p.b), wpm::kI32);
  return counts;
}

// What forward and backward both read (lengths may be NULL: it then touches nothing).
std::vector<wpm::Checker::Span> inputs(const wpm_attention_params& p, const Counts& counts) {
  return {{"q", p.q, counts.q}, {"k", p.k, counts.kv}, {"v", p.v, counts.kv}, {"lengths", p.lengths, size_t(p.b)}};
}

// The lengths the backend reads, in backend memory for the duration of the call: the caller's, copied by the
// backend's checked_lengths (the CPU backend fails here on a bad one; a device backend checks them on the
// stream and reports a bad one at the next read-back, so nothing waits here), or all T.
class Lengths {
 public:
  Lengths(wpm::Checker& check, const char* function, const wpm_attention_params& p) : backend_(check.backend()) {
    const size_t bytes = size_t(p.b) * sizeof(int32_t);
    void* memory = nullptr;
    if (backend_.alloc(bytes, &memory) != WPM_OK) {
      check.fail(WPM_ERR_OUT_OF_MEMORY, "could not allocate the lengths");
      return;
    }
    owned_ = static_cast<int32_t*>(memory);
    if (p.lengths != nullptr) {
      status_ = backend_.checked_lengths(function, static_cast<const int32_t*>(p.lengths->data()), owned_, p.b, p.t);
      if (status_ != WPM_OK) return;  // the backend's message names the length
    } else {
      std::vector<int32_t> host(size_t(p.b), int32_t(p.t));
      if (backend_.write(memory, host.data(), bytes) != WPM_OK) {
        check.fail(WPM_ERR_INTERNAL, "could not write lengths");
        return;
      }
    }
    data_ = owned_;
  }
  ~Lengths() {
    if (owned_ != nullptr) backend_.release(owned_);
  }
  Lengths(const Lengths&) = delete;
  Lengths& operator=(const Lengths&) = delete;
  const int32_t* data() const { return data_; }
  // Not OK when the backend refused a length (check.ok() covers the other failures).
  wpm_status status() const { return status_; }

 private:
  wpm::Backend& backend_;
  wpm_status status_ = WPM_OK;
  int32_t* owned_ = nullptr;
  const int32_t* data_ = nullptr;
};

// The backward-only fields are not touched by the forward: a caller may leave them unset.
wpm::AttentionArgs make_args(const wpm_attention_params& p, const int32_t* lengths, bool backward) {
  float scale = p.scale != 0.0f ? p.scale : float(1.0 / std::sqrt(double(p.d)));
  wpm::AttentionArgs args{p.b, p.t, p.h, p.kvh, p.d, scale, p.padding, lengths,
                          p.q->data(), p.k->data(), p.v->data(), p.out->data(), static_cast<float*>(p.lse->data()),
                          nullptr, nullptr, nullptr, nullptr, p.q->dtype};
  if (backward) {
    args.dout = p.dout->data();
    args.dq = p.dq->data();
    args.dk = p.dk->data();
    args.dv = p.dv->data();
  }
  return args;
}

}  // namespace

extern "C" {

wpm_status wpm_attention_fwd(wpm_context* context, const wpm_attention_params* params) {
  return wpm::guarded("wpm_attention_fwd", [&] {
    wpm::Checker check("wpm_attention_fwd", context);
    Counts counts = check_shapes(check, params);
    if (!check.ok()) return check.status();
    check.buffer("out", params->out, counts.q, wpm::kFloatTypes)
        .same_dtype("out", params->out, "q", params->q)
        .buffer("lse", params->lse, counts.lse, wpm::kF32)
        .outputs_disjoint({{"out", params->out, counts.q}, {"lse", params->lse, counts.lse}},
                          inputs(*params, counts));
    if (!check.ok()) return check.status();
    Lengths lengths(check, "wpm_attention_fwd", *params);
    if (!check.ok()) return check.status();
    if (lengths.status() != WPM_OK) return lengths.status();
    return check.backend().attention_fwd(make_args(*params, lengths.data(), false));
  });
}

wpm_status wpm_attention_bwd(wpm_context* context, const wpm_attention_params* params) {
  return wpm::guarded("wpm_attention_bwd", [&] {
    wpm::Checker check("wpm_attention_bwd", context);
    Counts counts = check_shapes(check, params);
    if (!check.ok()) return check.status();
    const wpm_attention_params& p = *params;
    check.buffer("out", p.out, counts.q, wpm::kFloatTypes)
        .buffer("lse", p.lse, counts.lse, wpm::kF32)
        .buffer("dout", p.dout, counts.q, wpm::kFloatTypes)
        .buffer("dq", p.dq, counts.q, wpm::kFloatTypes)
        .buffer("dk", p.dk, counts.kv, wpm::kFloatTypes)
        .buffer("dv", p.dv, counts.kv, wpm::kFloatTypes)
        .same_dtype("out", p.out, "q", p.q)
        .same_dtype("dout", p.dout, "q", p.q)
        .same_dtype("dq", p.dq, "q", p.q)
        .same_dtype("dk", p.dk, "q", p.q)
        .same_dtype("dv", p.dv, "q", p.q);
    std::vector<wpm::Checker::Span> read = inputs(p, counts);
    read.insert(read.end(), {{"out", p.out, counts.q}, {"lse", p.lse, counts.lse}, {"dout", p.dout, counts.q}});
    check.outputs_disjoint({{"dq", p.dq, counts.q}, {"dk", p.dk, counts.kv}, {"dv", p.dv, counts.kv}}, read);
    if (!check.ok()) return check.status();
    Lengths lengths(check, "wpm_attention_bwd", p);
    if (!check.ok()) return check.status();
    if (lengths.status() != WPM_OK) return lengths.status();
    return check.backend().attention_bwd(make_args(p, lengths.data(), true));
  });
}

}  // extern "C"
