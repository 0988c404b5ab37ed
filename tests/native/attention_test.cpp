// Fused causal attention (wpm_attention_fwd / wpm_attention_bwd) against a
// float64 reference that masks explicitly (padding and future keys) on
// absolute positions; the backward also against central finite differences.
// Shapes cross every tile edge (T = 1, 7, 65, 130, 200, 300, 389), lengths
// 1..T with both paddings, GQA ratios 1, 2 and 4, D = 64, 128 and others
// (17, 24, 80), f32, f16 and bf16. ctest runs this suite twice: as is (the
// fused AVX-512 forward where the CPU has it) and with WORLDPM_CPU_MAX_ISA=avx2
// (the sgemm tile path). Outputs are poisoned before each call; padding inputs hold NaN
// where a test checks they are never read.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace wpm_test;

struct Shape {
  int64_t b, t, h, kvh, d;
  wpm_padding padding;
  std::vector<int32_t> lengths;  // empty: pass NULL (every sequence has T tokens)
  float scale = 0.0f;

  size_t q_count() const { return size_t(b * t * h * d); }
  size_t kv_count() const { return size_t(b * t * kvh * d); }
  size_t lse_count() const { return size_t(b * h * t); }
  int64_t length(int64_t i) const { return lengths.empty() ? t : lengths[i]; }
  int64_t offset(int64_t i) const { return padding == WPM_PAD_LEFT ? t - length(i) : 0; }
  bool valid(int64_t i, int64_t tok) const { return tok >= offset(i) && tok < offset(i) + length(i); }
  double scale_value() const { return scale != 0.0f ? scale : 1.0 / std::sqrt(double(d)); }
  int64_t q_at(int64_t i, int64_t tok, int64_t head) const { return ((i * t + tok) * h + head) * d; }
  int64_t kv_at(int64_t i, int64_t tok, int64_t head) const { return ((i * t + tok) * kvh + head) * d; }

  std::string describe() const {
    std::ostringstream s;
    s << "B=" << b << " T=" << t << " H=" << h << " KVH=" << kvh << " D=" << d
      << (padding == WPM_PAD_LEFT ? " left" : " right") << " lengths=";
    if (lengths.empty()) s << "NULL";
    for (int32_t l : lengths) s << l << ",";
    return s.str();
  }
};

// What the buffers hold, in float64 (values already rounded to the dtype).
struct Inputs {
  std::vector<double> q, k, v, dout;
};

struct Result {
  std::vector<double> out, lse, dq, dk, dv;
};

double dot(const double* x, const double* y, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

// Naive float64 attention over absolute positions: query tq of sequence b sees key tk when both are
// valid tokens and tk <= tq. Backward: P = softmax, dV = P^T dO, dS = P (dO V^T - rowsum(dO O)),
// dQ = scale dS K, dK = scale dS^T Q. Padding rows stay 0.
Result reference(const Shape& s, const Inputs& x) {
  Result r{std::vector<double>(s.q_count()), std::vector<double>(s.lse_count()), std::vector<double>(s.q_count()),
           std::vector<double>(s.kv_count()), std::vector<double>(s.kv_count())};
  const double scale = s.scale_value();
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t h = 0; h < s.h; ++h) {
      const int64_t g = h / (s.h / s.kvh);
      for (int64_t tq = 0; tq < s.t; ++tq) {
        if (!s.valid(b, tq)) continue;
        const double* q = &x.q[s.q_at(b, tq, h)];
        std::vector<double> p(s.t, 0.0);
        std::vector<bool> seen(s.t, false);
        double mx = -INFINITY, sum = 0;
        for (int64_t tk = 0; tk < s.t; ++tk) {
          seen[tk] = s.valid(b, tk) && tk <= tq;
          if (!seen[tk]) continue;
          p[tk] = scale * dot(q, &x.k[s.kv_at(b, tk, g)], s.d);
          mx = std::max(mx, p[tk]);
        }
        for (int64_t tk = 0; tk < s.t; ++tk)
          if (seen[tk]) sum += p[tk] = std::exp(p[tk] - mx);
        double* out = &r.out[s.q_at(b, tq, h)];
        for (int64_t tk = 0; tk < s.t; ++tk) {
          if (!seen[tk]) continue;
          p[tk] /= sum;
          for (int64_t c = 0; c < s.d; ++c) out[c] += p[tk] * x.v[s.kv_at(b, tk, g) + c];
        }
        r.lse[(b * s.h + h) * s.t + tq] = mx + std::log(sum);
        if (x.dout.empty()) continue;
        const double* dout = &x.dout[s.q_at(b, tq, h)];
        const double delta = dot(dout, out, s.d);
        for (int64_t tk = 0; tk < s.t; ++tk) {
          if (!seen[tk]) continue;
          const int64_t kv = s.kv_at(b, tk, g);
          const double ds = p[tk] * (dot(dout, &x.v[kv], s.d) - delta);
          for (int64_t c = 0; c < s.d; ++c) {
            r.dq[s.q_at(b, tq, h) + c] += scale * ds * x.k[kv + c];
            r.dk[kv + c] += scale * ds * q[c];
            r.dv[kv + c] += p[tk] * dout[c];
          }
        }
      }
    }
  return r;
}

std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// Fresh random inputs rounded to dtype; with nan_padding, every padding row holds NaN.
Inputs make_inputs(const Shape& s, wpm_dtype dtype, uint32_t seed, bool nan_padding = false) {
  Inputs in{widen(random_values(s.q_count(), seed, -2, 2, dtype)),
            widen(random_values(s.kv_count(), seed + 1, -2, 2, dtype)),
            widen(random_values(s.kv_count(), seed + 2, -2, 2, dtype)),
            widen(random_values(s.q_count(), seed + 3, -2, 2, dtype))};
  if (!nan_padding) return in;
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t t = 0; t < s.t; ++t) {
      if (s.valid(b, t)) continue;
      for (int64_t e = s.q_at(b, t, 0); e < s.q_at(b, t, 0) + s.h * s.d; ++e) in.q[e] = in.dout[e] = NAN;
      for (int64_t e = s.kv_at(b, t, 0); e < s.kv_at(b, t, 0) + s.kvh * s.d; ++e) in.k[e] = in.v[e] = NAN;
    }
  return in;
}

std::vector<float> narrow(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

struct Outputs {
  std::vector<float> out, lse, dq, dk, dv;
};

// Runs the forward (and the backward, fed with the forward's out and lse) on poisoned outputs.
// nan_padding also puts NaN into the padding rows of out before the backward reads it.
Outputs run(const Context& ctx, const Shape& s, wpm_dtype dtype, const Inputs& in, bool backward,
            bool nan_padding = false) {
  Buffer q(ctx, dtype, narrow(in.q)), k(ctx, dtype, narrow(in.k)), v(ctx, dtype, narrow(in.v));
  Buffer out(ctx, dtype, s.q_count()), lse(ctx, WPM_F32, s.lse_count()), dout(ctx, dtype, narrow(in.dout));
  Buffer dq(ctx, dtype, s.q_count()), dk(ctx, dtype, s.kv_count()), dv(ctx, dtype, s.kv_count());
  Buffer lengths(ctx, WPM_I32, std::max<size_t>(s.lengths.size(), 1));
  if (!s.lengths.empty()) lengths.upload_i32(s.lengths);
  for (Buffer* poisoned : {&out, &lse, &dq, &dk, &dv}) poisoned->poison();

  wpm_attention_params p{sizeof p, s.b, s.t, s.h, s.kvh, s.d, s.scale, s.padding,
                         s.lengths.empty() ? nullptr : lengths.get(), q, k, v, out, lse, dout, dq, dk, dv};
  Outputs o;
  wpm_status status = wpm_attention_fwd(ctx, &p);
  EXPECT_EQ(status, WPM_OK) << wpm_last_error();
  o.out = out.download();
  o.lse = lse.download();
  if (!backward || status != WPM_OK) return o;
  if (nan_padding) {
    std::vector<float> poisoned = o.out;
    for (int64_t b = 0; b < s.b; ++b)
      for (int64_t t = 0; t < s.t; ++t)
        if (!s.valid(b, t)) std::fill_n(&poisoned[s.q_at(b, t, 0)], s.h * s.d, NAN);
    out.upload(poisoned);
  }
  EXPECT_EQ(wpm_attention_bwd(ctx, &p), WPM_OK) << wpm_last_error();
  o.dq = dq.download();
  o.dk = dk.download();
  o.dv = dv.download();
  return o;
}

// Every padding row of a [B, T, heads, D] tensor is exactly 0.
void expect_zero_padding(const Shape& s, const std::vector<float>& x, int64_t heads, const char* what) {
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t t = 0; t < s.t; ++t) {
      if (s.valid(b, t)) continue;
      for (int64_t e = 0; e < heads * s.d; ++e) {
        ASSERT_EQ(x[(b * s.t + t) * heads * s.d + e], 0.0f) << what << " padding row b=" << b << " t=" << t;
      }
    }
}

void check_forward(const Context& ctx, const Shape& s, wpm_dtype dtype, uint32_t seed) {
  SCOPED_TRACE(s.describe() + " " + dtype_label(dtype));
  Inputs in = make_inputs(s, dtype, seed);
  Result ref = reference(s, in);
  Outputs got = run(ctx, s, dtype, in, false);
  EXPECT_LE(rel_error(got.out, ref.out), tolerance(dtype, true));
  EXPECT_LE(rel_error(got.lse, ref.lse), tolerance(WPM_F32, true));  // f32, from the same rounded inputs
  expect_zero_padding(s, got.out, s.h, "out");
}

void check_backward(const Context& ctx, const Shape& s, wpm_dtype dtype, uint32_t seed) {
  SCOPED_TRACE(s.describe() + " " + dtype_label(dtype));
  Inputs in = make_inputs(s, dtype, seed);
  Result ref = reference(s, in);
  Outputs got = run(ctx, s, dtype, in, true);
  EXPECT_LE(rel_error(got.dq, ref.dq), tolerance(dtype, true)) << "dq";
  EXPECT_LE(rel_error(got.dk, ref.dk), tolerance(dtype, true)) << "dk";
  EXPECT_LE(rel_error(got.dv, ref.dv), tolerance(dtype, true)) << "dv";
  expect_zero_padding(s, got.dq, s.h, "dq");
  expect_zero_padding(s, got.dk, s.kvh, "dk");
  expect_zero_padding(s, got.dv, s.kvh, "dv");
}

// Tile edges: query blocks of 64; key blocks of 64 (D = 64), 32 (D = 128), 128 (D <= 32).
std::vector<Shape> shapes() {
  return {
      {1, 1, 2, 1, 64, WPM_PAD_RIGHT, {}},
      {3, 7, 2, 2, 24, WPM_PAD_RIGHT, {7, 1, 4}},
      {2, 65, 4, 2, 64, WPM_PAD_RIGHT, {65, 30}},
      {2, 65, 4, 2, 64, WPM_PAD_LEFT, {1, 64}},
      {2, 130, 4, 1, 128, WPM_PAD_LEFT, {130, 67}},
      {2, 130, 2, 2, 24, WPM_PAD_LEFT, {77, 129}},
      {1, 200, 2, 1, 17, WPM_PAD_RIGHT, {}},
      // Several full key blocks before the diagonal one; D = 80 splits O += P V into 64 + 16 columns.
      {1, 389, 4, 2, 80, WPM_PAD_LEFT, {389}},
      {2, 300, 2, 2, 64, WPM_PAD_RIGHT, {300, 257}},
  };
}

TEST(Attention, ForwardMatchesFloat64Reference) {
  Context ctx;
  uint32_t seed = 100;
  for (const Shape& s : shapes())
    for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16}) check_forward(ctx, s, dtype, seed += 10);
}

TEST(Attention, BackwardMatchesFloat64Reference) {
  Context ctx;
  uint32_t seed = 200;
  for (const Shape& s : shapes())
    for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16}) check_backward(ctx, s, dtype, seed += 10);
}

// The backward splits each kv head's key blocks into segments when B * KVH is small for the
// thread count; every split gives the reference.
TEST(Attention, BackwardIsCorrectForEveryThreadCount) {
  Shape s{1, 300, 2, 1, 64, WPM_PAD_LEFT, {290}};
  for (int threads : {1, 2, 3, 8}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    Context ctx(threads);
    check_backward(ctx, s, WPM_F32, 300 + threads);
  }
}

// loss = sum(out * W) on tiny shapes: dq, dk, dv (and the reference's own backward) against central
// finite differences of the float64 forward.
TEST(Attention, BackwardMatchesFiniteDifferences) {
  Context ctx;
  std::vector<Shape> tiny = {{1, 3, 2, 1, 4, WPM_PAD_RIGHT, {}},
                             {1, 5, 2, 1, 4, WPM_PAD_RIGHT, {3}},
                             {1, 4, 2, 1, 4, WPM_PAD_LEFT, {2}},
                             {2, 5, 2, 2, 4, WPM_PAD_LEFT, {5, 4}}};
  uint32_t seed = 400;
  for (const Shape& s : tiny) {
    SCOPED_TRACE(s.describe());
    Inputs in = make_inputs(s, WPM_F32, seed += 10);  // dout plays W
    Result ref = reference(s, in);
    Outputs got = run(ctx, s, WPM_F32, in, true);
    auto numeric = [&](std::vector<double> Inputs::*field) {
      return finite_difference(in.*field, [&](const std::vector<double>& x) {
        Inputs moved = in;
        moved.*field = x;
        moved.dout.clear();  // forward only
        Result r = reference(s, moved);
        return dot(r.out.data(), in.dout.data(), int64_t(r.out.size()));
      });
    };
    std::vector<double> fq = numeric(&Inputs::q), fk = numeric(&Inputs::k), fv = numeric(&Inputs::v);
    EXPECT_LE(rel_error(got.dq, fq), 1e-4) << "dq";
    EXPECT_LE(rel_error(got.dk, fk), 1e-4) << "dk";
    EXPECT_LE(rel_error(got.dv, fv), 1e-4) << "dv";
    EXPECT_LE(rel_error(narrow(ref.dq), fq), 1e-6) << "reference dq";
    EXPECT_LE(rel_error(narrow(ref.dk), fk), 1e-6) << "reference dk";
    EXPECT_LE(rel_error(narrow(ref.dv), fv), 1e-6) << "reference dv";
  }
}

// NaN in every padding row of q, k, v, dout (and of out before the backward) changes nothing.
TEST(Attention, PaddingIsNeverRead) {
  Context ctx;
  for (wpm_padding padding : {WPM_PAD_RIGHT, WPM_PAD_LEFT})
    for (wpm_dtype dtype : {WPM_F32, WPM_BF16}) {
      Shape s{3, 70, 4, 2, 64, padding, {70, 1, 33}};
      SCOPED_TRACE(s.describe() + " " + dtype_label(dtype));
      Inputs in = make_inputs(s, dtype, 500 + padding, /*nan_padding=*/true);
      Result ref = reference(s, in);
      Outputs got = run(ctx, s, dtype, in, true, /*nan_padding=*/true);
      EXPECT_LE(rel_error(got.out, ref.out), tolerance(dtype, true));
      EXPECT_LE(rel_error(got.lse, ref.lse), tolerance(WPM_F32, true));
      EXPECT_LE(rel_error(got.dq, ref.dq), tolerance(dtype, true));
      EXPECT_LE(rel_error(got.dk, ref.dk), tolerance(dtype, true));
      EXPECT_LE(rel_error(got.dv, ref.dv), tolerance(dtype, true));
    }
}

void expect_same_bits(const std::vector<float>& x, const std::vector<float>& y, const char* what) {
  ASSERT_EQ(x.size(), y.size()) << what;
  EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(float))) << what;
}

void expect_same_outputs(const Outputs& x, const Outputs& y) {
  expect_same_bits(x.out, y.out, "out");
  expect_same_bits(x.lse, y.lse, "lse");
  expect_same_bits(x.dq, y.dq, "dq");
  expect_same_bits(x.dk, y.dk, "dk");
  expect_same_bits(x.dv, y.dv, "dv");
}

TEST(Attention, NullLengthsMeanFullLength) {
  Context ctx;
  Shape implicit{2, 70, 4, 2, 64, WPM_PAD_LEFT, {}};
  Shape explicit_full = implicit;
  explicit_full.lengths = {70, 70};
  Inputs in = make_inputs(implicit, WPM_F32, 600);
  expect_same_outputs(run(ctx, implicit, WPM_F32, in, true), run(ctx, explicit_full, WPM_F32, in, true));
}

TEST(Attention, ScaleZeroMeansInverseSqrtD) {
  Context ctx;
  Shape implicit{1, 40, 2, 1, 64, WPM_PAD_RIGHT, {33}};
  Shape explicit_scale = implicit;
  explicit_scale.scale = 0.125f;
  Inputs in = make_inputs(implicit, WPM_F32, 700);
  expect_same_outputs(run(ctx, implicit, WPM_F32, in, true), run(ctx, explicit_scale, WPM_F32, in, true));
  check_backward(ctx, Shape{1, 40, 2, 1, 24, WPM_PAD_LEFT, {39}, 0.3f}, WPM_F32, 701);  // a scale of its own
}

TEST(Attention, RepeatedCallsGiveIdenticalBits) {
  // One kv head with four threads: the backward's dQ is summed over key-block segments.
  for (int threads : {2, 4}) {
    Context ctx(threads);
    for (wpm_dtype dtype : {WPM_F32, WPM_BF16}) {
      Shape s{1, 200, 4, 1, 64, WPM_PAD_RIGHT, {190}};
      Inputs in = make_inputs(s, dtype, 800);
      expect_same_outputs(run(ctx, s, dtype, in, true), run(ctx, s, dtype, in, true));
    }
  }
}

// The forward reads none of dout, dq, dk, dv: a caller may leave them unset.
TEST(Attention, ForwardIgnoresBackwardOnlyFields) {
  Context ctx;
  Shape s{1, 9, 2, 1, 8, WPM_PAD_RIGHT, {}};
  Inputs in = make_inputs(s, WPM_F32, 900);
  Buffer q(ctx, WPM_F32, narrow(in.q)), k(ctx, WPM_F32, narrow(in.k)), v(ctx, WPM_F32, narrow(in.v));
  Buffer out(ctx, WPM_F32, s.q_count()), lse(ctx, WPM_F32, s.lse_count());
  wpm_attention_params p{};
  p.struct_size = sizeof p;
  p.b = s.b, p.t = s.t, p.h = s.h, p.kvh = s.kvh, p.d = s.d;
  p.q = q, p.k = k, p.v = v, p.out = out, p.lse = lse;
  p.dq = reinterpret_cast<wpm_buffer*>(uintptr_t(8));  // not a buffer: must not be touched
  WPM_ASSERT_OK(wpm_attention_fwd(ctx, &p));
  EXPECT_LE(rel_error(out.download(), reference(s, in).out), 1e-4);
}

// What a C caller can store in an enum field (written by memcpy: out of range for the C++ enum type).
const int32_t kBadEnum = 2;

TEST(Attention, BadArgumentsAreRejectedByName) {
  Context ctx;
  const int64_t b = 2, t = 5, h = 4, kvh = 2, d = 8;
  Buffer q(ctx, WPM_F32, b * t * h * d), k(ctx, WPM_F32, b * t * kvh * d), v(ctx, WPM_F32, b * t * kvh * d);
  Buffer out(ctx, WPM_F32, b * t * h * d), lse(ctx, WPM_F32, b * h * t), dout(ctx, WPM_F32, b * t * h * d);
  Buffer dq(ctx, WPM_F32, b * t * h * d), dk(ctx, WPM_F32, b * t * kvh * d), dv(ctx, WPM_F32, b * t * kvh * d);
  Buffer lengths(ctx, WPM_I32, b), short_lengths(ctx, WPM_I32, 1), float_lengths(ctx, WPM_F32, b);
  Buffer k16(ctx, WPM_F16, b * t * kvh * d), q16(ctx, WPM_F16, b * t * h * d), lse16(ctx, WPM_F16, b * h * t);
  Buffer small(ctx, WPM_F32, 10);
  lengths.upload_i32({5, 3});
  const wpm_attention_params good{sizeof good, b, t, h, kvh, d, 0.0f, WPM_PAD_RIGHT, lengths, q, k, v, out, lse,
                                  dout, dq, dk, dv};
  ASSERT_EQ(wpm_attention_fwd(ctx, &good), WPM_OK) << wpm_last_error();
  ASSERT_EQ(wpm_attention_bwd(ctx, &good), WPM_OK) << wpm_last_error();

  using Fn = wpm_status (*)(wpm_context*, const wpm_attention_params*);
  for (Fn fn : {wpm_attention_fwd, wpm_attention_bwd}) {
    auto with = [&](auto change) {
      wpm_attention_params p = good;
      change(p);
      return fn(ctx, &p);
    };
    expect_error(fn(nullptr, &good), WPM_ERR_INVALID_ARGUMENT, {"'context'"});
    expect_error(fn(ctx, nullptr), WPM_ERR_INVALID_ARGUMENT, {"'params'"});
    expect_error(with([](auto& p) { p.struct_size = 16; }), WPM_ERR_INVALID_ARGUMENT, {"'params'", "struct_size"});
    expect_error(with([](auto& p) { p.kvh = 3; }), WPM_ERR_INVALID_ARGUMENT, {"'h'", "'kvh'", "multiple"});
    expect_error(with([](auto& p) { p.d = 0; }), WPM_ERR_INVALID_ARGUMENT, {"'d'"});
    expect_error(with([](auto& p) { p.t = -1; }), WPM_ERR_INVALID_ARGUMENT, {"'t'"});
    expect_error(with([](auto& p) { p.scale = NAN; }), WPM_ERR_INVALID_ARGUMENT, {"'scale'"});
    expect_error(with([](auto& p) { std::memcpy(&p.padding, &kBadEnum, sizeof kBadEnum); }), WPM_ERR_INVALID_ARGUMENT,
                 {"'padding'"});
    expect_error(with([](auto& p) { p.q = nullptr; }), WPM_ERR_INVALID_ARGUMENT, {"'q'", "NULL"});
    expect_error(with([&](auto& p) { p.k = k16; }), WPM_ERR_DTYPE, {"'k'", "f16"});
    expect_error(with([&](auto& p) { p.v = small; }), WPM_ERR_INVALID_ARGUMENT, {"'v'", "10 elements"});
    expect_error(with([&](auto& p) { p.out = small; }), WPM_ERR_INVALID_ARGUMENT, {"'out'"});
    expect_error(with([&](auto& p) { p.lse = lse16; }), WPM_ERR_DTYPE, {"'lse'", "f32"});
    expect_error(with([&](auto& p) { p.lengths = float_lengths; }), WPM_ERR_DTYPE, {"'lengths'", "i32"});
    expect_error(with([&](auto& p) { p.lengths = short_lengths; }), WPM_ERR_INVALID_ARGUMENT, {"'lengths'"});
    for (int32_t bad : {0, 6, -2}) {
      lengths.upload_i32({5, bad});
      std::string value = "= " + std::to_string(bad);
      expect_error(with([](auto&) {}), WPM_ERR_INVALID_ARGUMENT, {"'lengths'", "lengths[1]", value.c_str()});
    }
    lengths.upload_i32({5, 3});
  }
  auto backward_with = [&](auto change) {
    wpm_attention_params p = good;
    change(p);
    return wpm_attention_bwd(ctx, &p);
  };
  expect_error(backward_with([](auto& p) { p.dout = nullptr; }), WPM_ERR_INVALID_ARGUMENT, {"'dout'"});
  expect_error(backward_with([](auto& p) { p.dk = nullptr; }), WPM_ERR_INVALID_ARGUMENT, {"'dk'"});
  expect_error(backward_with([&](auto& p) { p.dq = q16; }), WPM_ERR_DTYPE, {"'dq'", "f16"});
  expect_error(backward_with([&](auto& p) { p.dv = small; }), WPM_ERR_INVALID_ARGUMENT, {"'dv'"});
}

}  // namespace
