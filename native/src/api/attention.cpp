// Fused causal attention entry points (forward and backward).
// Both check the shared shape arguments and the sequence layout without reading either back: the
// lengths of a padded batch go to the backend's checked_lengths (a length outside 1..T), the offsets of
// a packed one (cu_seqlens: 0 first, non-decreasing, T last, no sequence past max_seqlen) to its
// checked_offsets. The CPU backend fails the call at once; a device backend checks on the stream and
// reports the index, value and rule at the next read-back, so nothing waits here and a packed call may
// be recorded in a graph; the kernels read the checked copy, which stays in bounds whatever the caller
// stored. Without lengths, a padded batch's backend gets an internal all-T array (AttentionArgs.lengths
// is never null there).
#include <algorithm>
#include <cmath>
#include <cstddef>
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

// The fields a caller built against 0.4 knows: everything before the packed-batch fields.
constexpr size_t kAttentionParamsV04 = offsetof(wpm_attention_params, cu_seqlens);

// The caller's struct with the fields past its struct_size at their defaults (NULL cu_seqlens: padded).
// Only called once params is known non-null with a struct_size of at least kAttentionParamsV04.
wpm_attention_params read_params(const wpm_attention_params& given) {
  wpm_attention_params p{};
  std::memcpy(&p, &given, std::min(given.struct_size, sizeof p));
  p.struct_size = sizeof p;
  return p;
}

struct Counts {
  size_t q, kv, lse;
};

bool packed(const wpm_attention_params& p) { return p.cu_seqlens != nullptr; }

// The dims, scale, padding, q, k, v and the lengths or cu_seqlens buffer (not yet their values).
Counts check_shapes(wpm::Checker& check, const wpm_attention_params& p) {
  check.positive("b", p.b).positive("t", p.t).positive("h", p.h).positive("kvh", p.kvh).positive("d", p.d);
  check.in_range("t", p.t, 1, INT32_MAX);  // lengths and offsets are i32
  if (check.ok())
    check.require(p.h % p.kvh == 0, "h", "(%lld) is not a multiple of 'kvh' (%lld)", (long long)p.h,
                  (long long)p.kvh);
  check.finite("scale", p.scale).in_range("padding", stored_padding(p), WPM_PAD_RIGHT, WPM_PAD_LEFT);
  if (packed(p)) {
    check.in_range("b", p.b, 1, INT32_MAX - 1)  // b + 1 offsets, each an i32 index
        .in_range("max_seqlen", p.max_seqlen, 1, p.t)
        .require(p.lengths == nullptr, "lengths", "is set; it must be NULL with 'cu_seqlens' (a packed batch)")
        .require(stored_padding(p) == WPM_PAD_RIGHT, "padding",
                 "is WPM_PAD_LEFT; a packed batch (with 'cu_seqlens') has no padding: use WPM_PAD_RIGHT");
  }
  // A packed batch is one sequence of tokens for the shapes: [T, ...] tensors and lse [H, T].
  const int64_t slots = packed(p) ? 1 : p.b;
  Counts counts{check.count("q", {slots, p.t, p.h, p.d}), check.count("k", {slots, p.t, p.kvh, p.d}),
                check.count("lse", {slots, p.h, p.t})};
  check.buffer("q", p.q, counts.q, wpm::kFloatTypes)
      .buffer("k", p.k, counts.kv, wpm::kFloatTypes)
      .buffer("v", p.v, counts.kv, wpm::kFloatTypes)
      .same_dtype("k", p.k, "q", p.q)
      .same_dtype("v", p.v, "q", p.q)
      .optional_buffer("lengths", p.lengths, size_t(p.b), wpm::kI32);
  if (packed(p)) check.buffer("cu_seqlens", p.cu_seqlens, size_t(p.b) + 1, wpm::kI32);
  return counts;
}

// What forward and backward both read (lengths and cu_seqlens may be NULL: they then touch nothing).
std::vector<wpm::Checker::Span> inputs(const wpm_attention_params& p, const Counts& counts) {
  return {{"q", p.q, counts.q},
          {"k", p.k, counts.kv},
          {"v", p.v, counts.kv},
          {"lengths", p.lengths, size_t(p.b)},
          {"cu_seqlens", p.cu_seqlens, packed(p) ? size_t(p.b) + 1 : 0}};
}

// Where the sequences lie, as the backend reads it: a copy in backend memory from sequences_scratch (kept by a
// device backend, so that a call allocates nothing and may be captured in a graph) of the caller's lengths made by
// the backend's checked_lengths, or of its offsets made by checked_offsets (the CPU backend fails here on a bad
// value; a device backend checks them on the stream and reports a bad one at the next read-back), or of all T.
class Sequences {
 public:
  Sequences(wpm::Checker& check, const char* function, const wpm_attention_params& p) : backend_(check.backend()) {
    const size_t count = packed(p) ? size_t(p.b) + 1 : size_t(p.b), bytes = count * sizeof(int32_t);
    void* memory = nullptr;
    bool kept = false;
    status_ = backend_.sequences_scratch(bytes, &memory, &kept);
    if (status_ != WPM_OK) return;  // the backend's message (out of memory, or an allocation during a capture)
    if (!kept) owned_ = static_cast<int32_t*>(memory);
    int32_t* safe = static_cast<int32_t*>(memory);
    if (packed(p)) {
      status_ = backend_.checked_offsets(function, static_cast<const int32_t*>(p.cu_seqlens->data()), safe, p.b, p.t,
                                         p.max_seqlen);
      if (status_ == WPM_OK) cu_seqlens_ = safe;
      return;  // else the backend's message names the index and the rule
    }
    if (p.lengths != nullptr) {
      status_ = backend_.checked_lengths(function, static_cast<const int32_t*>(p.lengths->data()), safe, p.b, p.t);
      if (status_ != WPM_OK) return;  // the backend's message names the length
    } else {
      std::vector<int32_t> host(size_t(p.b), int32_t(p.t));
      if (backend_.write(memory, host.data(), bytes) != WPM_OK) {
        check.fail(WPM_ERR_INTERNAL, "could not write lengths");
        return;
      }
    }
    lengths_ = safe;
  }
  ~Sequences() {
    if (owned_ != nullptr) backend_.release(owned_);
  }
  Sequences(const Sequences&) = delete;
  Sequences& operator=(const Sequences&) = delete;
  const int32_t* lengths() const { return lengths_; }
  const int32_t* cu_seqlens() const { return cu_seqlens_; }
  // Not OK when the backend refused a length or an offset (check.ok() covers the other failures).
  wpm_status status() const { return status_; }

 private:
  wpm::Backend& backend_;
  wpm_status status_ = WPM_OK;
  int32_t* owned_ = nullptr;
  const int32_t* lengths_ = nullptr;
  const int32_t* cu_seqlens_ = nullptr;
};

// The backward-only fields are not touched by the forward: a caller may leave them unset.
wpm::AttentionArgs make_args(const wpm_attention_params& p, const Sequences& sequences, bool backward) {
  float scale = p.scale != 0.0f ? p.scale : float(1.0 / std::sqrt(double(p.d)));
  wpm::AttentionArgs args{p.b, p.t, p.h, p.kvh, p.d, scale, p.padding, sequences.lengths(),
                          p.q->data(), p.k->data(), p.v->data(), p.out->data(), static_cast<float*>(p.lse->data()),
                          nullptr, nullptr, nullptr, nullptr, p.q->dtype, sequences.cu_seqlens(),
                          packed(p) ? p.max_seqlen : p.t};
  if (backward) {
    args.dout = p.dout->data();
    args.dq = p.dq->data();
    args.dk = p.dk->data();
    args.dv = p.dv->data();
  }
  return args;
}

// params and its struct_size; then the struct with defaults past a 0.4 caller's struct_size.
bool read_checked(wpm::Checker& check, const wpm_attention_params* params, wpm_attention_params* p) {
  check.not_null("params", params);
  if (check.ok()) check.struct_size("params", params->struct_size, kAttentionParamsV04);
  if (!check.ok()) return false;  // the fields may lie past a smaller struct
  *p = read_params(*params);
  return true;
}

}  // namespace

extern "C" {

wpm_status wpm_attention_fwd(wpm_context* context, const wpm_attention_params* params) {
  return wpm::guarded("wpm_attention_fwd", [&] {
    wpm::Checker check("wpm_attention_fwd", context);
    wpm_attention_params p;
    if (!read_checked(check, params, &p)) return check.status();
    Counts counts = check_shapes(check, p);
    if (!check.ok()) return check.status();
    check.buffer("out", p.out, counts.q, wpm::kFloatTypes)
        .same_dtype("out", p.out, "q", p.q)
        .buffer("lse", p.lse, counts.lse, wpm::kF32)
        .outputs_disjoint({{"out", p.out, counts.q}, {"lse", p.lse, counts.lse}}, inputs(p, counts));
    if (!check.ok()) return check.status();
    Sequences sequences(check, "wpm_attention_fwd", p);
    if (!check.ok()) return check.status();
    if (sequences.status() != WPM_OK) return sequences.status();
    return check.backend().attention_fwd(make_args(p, sequences, false));
  });
}

wpm_status wpm_attention_bwd(wpm_context* context, const wpm_attention_params* params) {
  return wpm::guarded("wpm_attention_bwd", [&] {
    wpm::Checker check("wpm_attention_bwd", context);
    wpm_attention_params p;
    if (!read_checked(check, params, &p)) return check.status();
    Counts counts = check_shapes(check, p);
    if (!check.ok()) return check.status();
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
    Sequences sequences(check, "wpm_attention_bwd", p);
    if (!check.ok()) return check.status();
    if (sequences.status() != WPM_OK) return sequences.status();
    return check.backend().attention_bwd(make_args(p, sequences, true));
  });
}

}  // extern "C"
