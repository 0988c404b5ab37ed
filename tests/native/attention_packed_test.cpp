// Packed batches (wpm_attention_params.cu_seqlens) on every host backend: the sequences laid end to end
// give the outputs, lse and gradients of the same sequences in the padded [B, T] layout with lengths
// (itself checked against float64 in attention_test.cpp and the emulated attention tests), per token,
// f32/f16/bf16, GQA, sequences of one token and empty ones, D 64 and 128 (the tensor-core kernels on emu
// for f16/bf16) and odd D (the CUDA-core kernels). Also: RoPE with positions that restart per sequence on
// a packed stream equals RoPE on the padded layout; a 0.4 caller's smaller struct still means padded;
// bad offsets are refused by name, index, value and rule (on emu at the next read-back).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backend_param.h"
#include "packed_lengths.h"
#include "test_util.h"

namespace {

using namespace wpm_test;

// A batch of sequences (lengths may be 0) with the head shape.
struct Batch : PackedLengths {
  int64_t h, kvh, d;

  // The padded layout holds the non-empty sequences (a padded length is at least 1), right-padded to
  // the longest.
  std::vector<int32_t> padded_lengths() const {
    std::vector<int32_t> l;
    for (int32_t n : lens)
      if (n > 0) l.push_back(n);
    return l;
  }
  std::string describe() const {
    std::string s = "H=" + std::to_string(h) + " KVH=" + std::to_string(kvh) + " D=" + std::to_string(d) + " lens=";
    for (int32_t n : lens) s += std::to_string(n) + ",";
    return s;
  }
};

struct Tensors {
  std::vector<float> q, k, v, dout;
};

struct Results {
  std::vector<float> out, lse, dq, dk, dv;
};

// Packed [T, heads, D] rows -> padded [B', T', heads, D] (B' non-empty sequences, T' the longest); padding
// rows NaN, so the padded path reading one would show.
std::vector<float> to_padded(const Batch& s, const std::vector<float>& packed, int64_t heads) {
  const int64_t width = heads * s.d, t = s.longest();
  std::vector<float> padded(size_t(s.padded_lengths().size() * t * width), std::numeric_limits<float>::quiet_NaN());
  const std::vector<int32_t> cu = s.offsets();
  int64_t slot = 0;
  for (int64_t i = 0; i < s.count(); ++i) {
    if (s.lens[i] == 0) continue;
    std::copy_n(&packed[size_t(cu[i] * width)], s.lens[i] * width, &padded[size_t(slot * t * width)]);
    ++slot;
  }
  return padded;
}

// Padded [B', T', heads, D] -> packed rows (the inverse of to_padded on the valid rows).
std::vector<float> from_padded(const Batch& s, const std::vector<float>& padded, int64_t heads) {
  const int64_t width = heads * s.d, t = s.longest();
  std::vector<float> packed(size_t(s.total() * width));
  const std::vector<int32_t> cu = s.offsets();
  int64_t slot = 0;
  for (int64_t i = 0; i < s.count(); ++i) {
    if (s.lens[i] == 0) continue;
    std::copy_n(&padded[size_t(slot * t * width)], s.lens[i] * width, &packed[size_t(cu[i] * width)]);
    ++slot;
  }
  return packed;
}

// Padded lse [B', H, T'] -> packed lse [H, T].
std::vector<float> lse_from_padded(const Batch& s, const std::vector<float>& padded) {
  const int64_t t = s.longest(), total = s.total();
  std::vector<float> packed(size_t(s.h * total));
  const std::vector<int32_t> cu = s.offsets();
  int64_t slot = 0;
  for (int64_t i = 0; i < s.count(); ++i) {
    if (s.lens[i] == 0) continue;
    for (int64_t h = 0; h < s.h; ++h)
      std::copy_n(&padded[size_t((slot * s.h + h) * t)], s.lens[i], &packed[size_t(h * total + cu[i])]);
    ++slot;
  }
  return packed;
}

std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// Forward then backward (fed the forward's out and lse) on poisoned outputs. packed: the batch as one
// stream with cu_seqlens; else the padded layout with lengths.
Results run(const Context& ctx, const Batch& s, wpm_dtype dtype, const Tensors& x, bool packed) {
  const std::vector<int32_t> lengths = s.padded_lengths();
  const int64_t b = packed ? s.count() : int64_t(lengths.size()), t = packed ? s.total() : s.longest();
  const int64_t planes = packed ? 1 : b;
  auto layout = [&](const std::vector<float>& v, int64_t heads) { return packed ? v : to_padded(s, v, heads); };
  Buffer q(ctx, dtype, layout(x.q, s.h)), k(ctx, dtype, layout(x.k, s.kvh)), v(ctx, dtype, layout(x.v, s.kvh));
  Buffer dout(ctx, dtype, layout(x.dout, s.h));
  const size_t q_count = size_t(planes * t * s.h * s.d), kv_count = size_t(planes * t * s.kvh * s.d);
  Buffer out(ctx, dtype, q_count), lse(ctx, WPM_F32, size_t(planes * s.h * t));
  Buffer dq(ctx, dtype, q_count), dk(ctx, dtype, kv_count), dv(ctx, dtype, kv_count);
  Buffer offsets(ctx, WPM_I32, size_t(s.count() + 1)), lens(ctx, WPM_I32, lengths.size());
  offsets.upload_i32(s.offsets());
  lens.upload_i32(lengths);
  for (Buffer* poisoned : {&out, &lse, &dq, &dk, &dv}) poisoned->poison();

  wpm_attention_params p{};
  p.struct_size = sizeof p;
  p.b = b, p.t = t, p.h = s.h, p.kvh = s.kvh, p.d = s.d;
  p.q = q, p.k = k, p.v = v, p.out = out, p.lse = lse, p.dout = dout, p.dq = dq, p.dk = dk, p.dv = dv;
  if (packed) {
    p.cu_seqlens = offsets;
    p.max_seqlen = s.longest();
  } else {
    p.lengths = lens;
  }
  Results r;
  if (wpm_attention_fwd(ctx, &p) != WPM_OK || wpm_attention_bwd(ctx, &p) != WPM_OK) {
    ADD_FAILURE() << wpm_last_error();
    return r;
  }
  auto back = [&](const Buffer& buffer, int64_t heads) {
    return packed ? buffer.download() : from_padded(s, buffer.download(), heads);
  };
  r.out = back(out, s.h);
  r.lse = packed ? lse.download() : lse_from_padded(s, lse.download());
  r.dq = back(dq, s.h);
  r.dk = back(dk, s.kvh);
  r.dv = back(dv, s.kvh);
  return r;
}

class AttentionPacked : public HostBackendTest {
 protected:
  void expect_packed_equals_padded(const Batch& s, wpm_dtype dtype, uint32_t seed) {
    SCOPED_TRACE(s.describe() + " " + dtype_label(dtype));
    Context ctx(0, GetParam().kind);
    const size_t q_count = size_t(s.total() * s.h * s.d), kv_count = size_t(s.total() * s.kvh * s.d);
    Tensors x{random_values(q_count, seed, -2, 2, dtype), random_values(kv_count, seed + 1, -2, 2, dtype),
              random_values(kv_count, seed + 2, -2, 2, dtype), random_values(q_count, seed + 3, -1, 1, dtype)};
    const Results packed = run(ctx, s, dtype, x, true), padded = run(ctx, s, dtype, x, false);
    const double tol = tolerance(dtype, true);
    EXPECT_LE(rel_error(packed.out, widen(padded.out)), tol) << "out";
    EXPECT_LE(rel_error(packed.lse, widen(padded.lse)), dtype == WPM_F32 ? 1e-5 : 1e-3) << "lse";
    EXPECT_LE(rel_error(packed.dq, widen(padded.dq)), tol) << "dq";
    EXPECT_LE(rel_error(packed.dk, widen(padded.dk)), tol) << "dk";
    EXPECT_LE(rel_error(packed.dv, widen(padded.dv)), tol) << "dv";
  }
};

// GQA, one-token and empty sequences, query and key tiles of 64 crossed; D = 64 (tensor cores for f16/bf16
// on emu).
TEST_P(AttentionPacked, EqualsPaddedWithGqaAndShortSequences) {
  const Batch s{{{1, 70, 0, 33, 130, 1}}, 4, 2, 64};
  uint32_t seed = 10;
  for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16}) expect_packed_equals_padded(s, dtype, seed += 10);
}

TEST_P(AttentionPacked, EqualsPaddedAtHeadDim128) {
  const Batch s{{{65, 0, 7, 64}}, 2, 1, 128};
  uint32_t seed = 100;
  for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16}) expect_packed_equals_padded(s, dtype, seed += 10);
}

// An odd head dim: the CUDA-core kernels on emu (every dtype), the sgemm tile remainders on cpu.
TEST_P(AttentionPacked, EqualsPaddedAtOddHeadDim) {
  const Batch s{{{5, 1, 0, 40, 9}}, 3, 1, 17};
  uint32_t seed = 200;
  for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16}) expect_packed_equals_padded(s, dtype, seed += 10);
}

// Empty sequences first and last, and one sequence alone.
TEST_P(AttentionPacked, EqualsPaddedWithEmptySequencesAtTheEnds) {
  expect_packed_equals_padded(Batch{{{0, 20, 0, 0}}, 2, 2, 24}, WPM_F32, 300);
  expect_packed_equals_padded(Batch{{{90}}, 2, 1, 64}, WPM_BF16, 310);
}

// A sequence's results do not depend on its neighbours in the stream: the same sequence between other
// ones gives the same bits as alone (each sequence's tiles are its own).
TEST_P(AttentionPacked, NeighboursDoNotLeakIntoASequence) {
  Context ctx(0, GetParam().kind);
  const Batch alone{{{50}}, 2, 1, 64}, with{{{30, 50, 20}}, 2, 1, 64};
  const size_t row_q = size_t(alone.h * alone.d), row_kv = size_t(alone.kvh * alone.d);
  Tensors a{random_values(50 * row_q, 400), random_values(50 * row_kv, 401), random_values(50 * row_kv, 402),
            random_values(50 * row_q, 403)};
  Tensors w{random_values(100 * row_q, 410), random_values(100 * row_kv, 411), random_values(100 * row_kv, 412),
            random_values(100 * row_q, 413)};
  std::copy(a.q.begin(), a.q.end(), w.q.begin() + 30 * row_q);
  std::copy(a.k.begin(), a.k.end(), w.k.begin() + 30 * row_kv);
  std::copy(a.v.begin(), a.v.end(), w.v.begin() + 30 * row_kv);
  std::copy(a.dout.begin(), a.dout.end(), w.dout.begin() + 30 * row_q);
  const Results one = run(ctx, alone, WPM_F32, a, true), three = run(ctx, with, WPM_F32, w, true);
  ASSERT_FALSE(one.out.empty());
  ASSERT_FALSE(three.out.empty());
  auto middle = [](const std::vector<float>& x, size_t row) {  // tokens 30 .. 79: the 50 of the sequence
    return std::vector<float>(x.begin() + 30 * row, x.begin() + 80 * row);
  };
  EXPECT_EQ(middle(three.out, row_q), one.out);
  EXPECT_EQ(middle(three.dq, row_q), one.dq);
  EXPECT_EQ(middle(three.dk, row_kv), one.dk);
  EXPECT_EQ(middle(three.dv, row_kv), one.dv);
  for (int64_t h = 0; h < alone.h; ++h)
    EXPECT_EQ(std::vector<float>(three.lse.begin() + h * 100 + 30, three.lse.begin() + h * 100 + 80),
              std::vector<float>(one.lse.begin() + h * 50, one.lse.begin() + h * 50 + 50))
        << "lse head " << h;
}

// RoPE on a packed stream (b = 1, t = all tokens) with positions restarting at 0 per sequence rotates
// each token as RoPE on the padded layout does with pos = t.
TEST_P(AttentionPacked, RopeWithRestartingPositionsEqualsPaddedRope) {
  Context ctx(0, GetParam().kind);
  const Batch s{{{3, 0, 17, 1, 9}}, 3, 3, 16};
  std::vector<int32_t> positions;
  for (int32_t n : s.lens)
    for (int32_t j = 0; j < n; ++j) positions.push_back(j);
  for (wpm_dtype dtype : {WPM_F32, WPM_BF16}) {
    SCOPED_TRACE(dtype_label(dtype));
    const std::vector<float> x = random_values(size_t(s.total() * s.h * s.d), 500, -2, 2, dtype);
    Buffer packed(ctx, dtype, x), pos(ctx, WPM_I32, positions.size());
    pos.upload_i32(positions);
    std::vector<float> padded_values = to_padded(s, x, s.h);
    std::replace_if(padded_values.begin(), padded_values.end(), [](float e) { return std::isnan(e); }, 0.0f);
    Buffer padded(ctx, dtype, padded_values);
    const int64_t b = int64_t(s.padded_lengths().size());
    WPM_ASSERT_OK(rope(ctx, false, packed, pos, 1, s.total(), s.h, s.d, 10000.0f));
    WPM_ASSERT_OK(rope(ctx, false, padded, nullptr, b, s.longest(), s.h, s.d, 10000.0f));
    EXPECT_EQ(packed.download(), from_padded(s, padded.download(), s.h));
  }
}

// A caller built against 0.4 passes the smaller struct: whatever lies past it, the batch is padded.
TEST_P(AttentionPacked, SmallerStructMeansPadded) {
  Context ctx(0, GetParam().kind);
  const int64_t b = 2, t = 6, h = 2, d = 8;
  const size_t n = size_t(b * t * h * d);
  Buffer q(ctx, WPM_F32, random_values(n, 600)), k(ctx, WPM_F32, random_values(n, 601));
  Buffer v(ctx, WPM_F32, random_values(n, 602)), out(ctx, WPM_F32, n), lse(ctx, WPM_F32, size_t(b * h * t));
  Buffer expected_out(ctx, WPM_F32, n), expected_lse(ctx, WPM_F32, size_t(b * h * t));
  wpm_attention_params full{};
  full.struct_size = sizeof full;
  full.b = b, full.t = t, full.h = h, full.kvh = h, full.d = d;
  full.q = q, full.k = k, full.v = v, full.out = expected_out, full.lse = expected_lse;
  WPM_ASSERT_OK(wpm_attention_fwd(ctx, &full));
  wpm_attention_params old = full;
  old.struct_size = offsetof(wpm_attention_params, cu_seqlens);
  old.out = out, old.lse = lse;
  old.cu_seqlens = reinterpret_cast<const wpm_buffer*>(uintptr_t(8));  // past the caller's struct: not read
  old.max_seqlen = -1;
  WPM_ASSERT_OK(wpm_attention_fwd(ctx, &old));
  EXPECT_EQ(out.download(), expected_out.download());
  EXPECT_EQ(lse.download(), expected_lse.download());
}

TEST_P(AttentionPacked, BadOffsetsAreRejectedByName) {
  Context ctx(0, GetParam().kind);
  const int64_t seqs = 3, t = 10, h = 2, d = 8;
  const size_t n = size_t(t * h * d);
  Buffer q(ctx, WPM_F32, n), k(ctx, WPM_F32, n), v(ctx, WPM_F32, n), out(ctx, WPM_F32, n);
  Buffer lse(ctx, WPM_F32, size_t(h * t)), dout(ctx, WPM_F32, n), dq(ctx, WPM_F32, n), dk(ctx, WPM_F32, n),
      dv(ctx, WPM_F32, n);
  Buffer cu(ctx, WPM_I32, size_t(seqs + 1)), short_cu(ctx, WPM_I32, size_t(seqs)), float_cu(ctx, WPM_F32, 4);
  Buffer lengths(ctx, WPM_I32, size_t(seqs)), small_lse(ctx, WPM_F32, size_t(h * t - 1));
  for (Buffer* b : {&q, &k, &v, &dout}) b->upload(random_values(n, 700));
  lengths.upload_i32({4, 4, 2});
  const std::vector<int32_t> good_offsets{0, 4, 4, 10};
  cu.upload_i32(good_offsets);
  wpm_attention_params good{};
  good.struct_size = sizeof good;
  good.b = seqs, good.t = t, good.h = h, good.kvh = h, good.d = d;
  good.q = q, good.k = k, good.v = v, good.out = out, good.lse = lse, good.dout = dout, good.dq = dq, good.dk = dk,
  good.dv = dv;
  good.cu_seqlens = cu;
  good.max_seqlen = 6;
  ASSERT_EQ(wpm_attention_fwd(ctx, &good), WPM_OK) << wpm_last_error();
  ASSERT_EQ(wpm_attention_bwd(ctx, &good), WPM_OK) << wpm_last_error();
  const std::vector<float> good_out = out.download(), good_dq = dq.download();

  using Fn = wpm_status (*)(wpm_context*, const wpm_attention_params*);
  Fn fn = nullptr;  // each check runs with the forward, then with the backward
  auto with = [&](auto change) {
    wpm_attention_params changed = good;
    change(changed);
    return fn(ctx, &changed);
  };
  for (Fn entry : {wpm_attention_fwd, wpm_attention_bwd}) {
    fn = entry;
    // The cpu backend refuses the call; emu (the cuda backend's host code) checks the offsets on the stream, so
    // the call returns OK without reading them back and the next read-back reports them. The good offsets go
    // back after the check (the upload would clear the error message).
    const bool on_device = GetParam().kind != WPM_BACKEND_CPU;
    auto expect_offsets_error = [&](const std::vector<int32_t>& offsets, std::initializer_list<const char*> words,
                                    const char* argument) {
      cu.upload_i32(offsets);
      if (on_device) {
        ASSERT_EQ(fn(ctx, &good), WPM_OK) << wpm_last_error();
        std::vector<float> host(4);
        expect_error(wpm_buffer_read(q, 0, host.data(), host.size()), WPM_ERR_INVALID_ARGUMENT, words);
        EXPECT_NE(std::string(wpm_last_error()).find("(checked on the device; reported at the next read-back)"),
                  std::string::npos)
            << wpm_last_error();
      } else {
        expect_error(fn(ctx, &good), WPM_ERR_INVALID_ARGUMENT, words);
      }
      EXPECT_STREQ(wpm_last_error_argument(), argument);
      cu.upload_i32(good_offsets);
    };
    const std::string function = fn == wpm_attention_fwd ? "wpm_attention_fwd:" : "wpm_attention_bwd:";
    const char* op = function.c_str();
    expect_offsets_error({1, 4, 4, 10}, {op, "'cu_seqlens' has cu_seqlens[0] = 1; it must be 0"}, "cu_seqlens");
    expect_offsets_error({-3, 4, 4, 10}, {op, "cu_seqlens[0] = -3; it must be 0"}, "cu_seqlens");
    expect_offsets_error({0, 5, 4, 10},
                         {op, "'cu_seqlens' has cu_seqlens[2] = 4 below cu_seqlens[1] = 5", "non-decreasing"},
                         "cu_seqlens");
    expect_offsets_error({0, 4, 11, 10}, {op, "'cu_seqlens' has cu_seqlens[2] = 11 past t (10)"}, "cu_seqlens");
    expect_offsets_error({0, 4, 4, 9}, {op, "'cu_seqlens' has cu_seqlens[3] = 9; the last offset must be t (10)"},
                         "cu_seqlens");
    expect_offsets_error({0, 1, 2, 10},
                         {op, "'max_seqlen' is 6, but sequence 2 has 8 tokens (cu_seqlens[3] - cu_seqlens[2])"},
                         "max_seqlen");
    // Two broken rules: the first index wins (a later sequence too long, an earlier offset decreasing).
    expect_offsets_error({0, 3, 2, 10}, {op, "cu_seqlens[2] = 2 below cu_seqlens[1] = 3"}, "cu_seqlens");
    // The good offsets still give what they gave before the bad ones (nothing was left behind).
    ASSERT_EQ(fn(ctx, &good), WPM_OK) << wpm_last_error();
    EXPECT_EQ(fn == wpm_attention_fwd ? out.download() : dq.download(), fn == wpm_attention_fwd ? good_out : good_dq);
    expect_error(with([](auto& p) { p.max_seqlen = 0; }), WPM_ERR_INVALID_ARGUMENT, {"'max_seqlen'"});
    expect_error(with([](auto& p) { p.max_seqlen = 11; }), WPM_ERR_INVALID_ARGUMENT, {"'max_seqlen'", "11"});
    expect_error(with([&](auto& p) { p.lengths = lengths; }), WPM_ERR_INVALID_ARGUMENT, {"'lengths'", "NULL"});
    expect_error(with([](auto& p) { p.padding = WPM_PAD_LEFT; }), WPM_ERR_INVALID_ARGUMENT, {"'padding'"});
    expect_error(with([&](auto& p) { p.cu_seqlens = short_cu; }), WPM_ERR_INVALID_ARGUMENT, {"'cu_seqlens'"});
    expect_error(with([&](auto& p) { p.cu_seqlens = float_cu; }), WPM_ERR_DTYPE, {"'cu_seqlens'", "i32"});
    expect_error(with([&](auto& p) { p.lse = small_lse; }), WPM_ERR_INVALID_ARGUMENT, {"'lse'"});
    expect_error(with([&](auto& p) { p.cu_seqlens = reinterpret_cast<const wpm_buffer*>(uintptr_t(8)); }),
                 WPM_ERR_INVALID_ARGUMENT, {"'cu_seqlens'"});
    EXPECT_STREQ(wpm_last_error_argument(), "cu_seqlens");
  }
}

WPM_INSTANTIATE_HOST_BACKENDS(AttentionPacked);

}  // namespace
