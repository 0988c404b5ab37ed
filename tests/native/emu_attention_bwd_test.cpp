// kernels/attention.cu (attention_bwd) run through the emulator: dq, dk, dv
// against a float64 reference and against the CPU backend's
// wpm_attention_bwd (an independent implementation, through the C ABI, on the
// same f16/bf16 values), for f16 and bf16, D 64 and 128, T not a multiple of
// the 64-row tiles, length-1 sequences, right and left padding, GQA ratios 1,
// 2 and 4. out and lse come from the emulated forward. Outputs and the
// workspace are poisoned first, and the padding rows of q, k, v, out and dout
// hold NaN (never read); padding rows of dq, dk, dv must come back exactly 0.
// Results must be bitwise identical in every schedule, with cp.async
// delivered late (the default) and eagerly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "emu_attention_shape.h"
#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;
using wpm_test::Buffer;
using wpm_test::Context;

using attention_test::Shape;

constexpr emu_test::DtypeCase kHalf[] = {{WPM_F16, kdtype::f16}, {WPM_BF16, kdtype::bf16}};

// q, k, v, dout random in the dtype, out and lse from the emulated forward; padding rows of every
// [b, t, ., d] input are NaN.
struct Inputs {
  std::vector<float> q, k, v, out, lse, dout;
};

void nan_padding(const Shape& s, std::vector<float>& x, int64_t heads) {
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t t = 0; t < s.t; ++t)
      if (!s.valid(b, t))
        std::fill_n(&x[size_t((b * s.t + t) * heads * s.d)], heads * s.d, std::numeric_limits<float>::quiet_NaN());
}

Inputs make_inputs(const Shape& s, const emu_test::DtypeCase& c, uint32_t seed) {
  Inputs in;
  in.q = wpm_test::random_values(s.q_count(), seed, -2.0f, 2.0f, c.wpm);
  in.k = wpm_test::random_values(s.kv_count(), seed + 1, -2.0f, 2.0f, c.wpm);
  in.v = wpm_test::random_values(s.kv_count(), seed + 2, -2.0f, 2.0f, c.wpm);
  in.dout = wpm_test::random_values(s.q_count(), seed + 3, -1.0f, 1.0f, c.wpm);
  nan_padding(s, in.q, s.h);
  nan_padding(s, in.k, s.kvh);
  nan_padding(s, in.v, s.kvh);
  nan_padding(s, in.dout, s.h);
  DeviceArray q(c.kd, in.q), k(c.kd, in.k), v(c.kd, in.v), out(c.kd, s.q_count()), lse(kdtype::f32, s.lse_count());
  DeviceArray lengths(s.lengths.empty() ? std::vector<int32_t>{0} : s.lengths);
  EXPECT_EQ(attention_fwd(nullptr, q.data(), k.data(), v.data(), s.lengths.empty() ? nullptr : lengths.as<int32_t>(),
                          out.data(), lse.as<float>(), s.b, s.t, s.h, s.kvh, s.d, s.scale, s.padding, c.kd),
            KSTATUS_OK)
      << klast_error();
  in.out = out.download();
  in.lse = lse.download();
  nan_padding(s, in.out, s.h);
  return in;
}

struct Grads {
  std::vector<float> dq, dk, dv;
  std::vector<uint8_t> bytes;  // dq, dk, dv, for the schedule comparison
};

Grads run_emu(const Shape& s, const emu_test::DtypeCase& c, const Inputs& in) {
  DeviceArray q(c.kd, in.q), k(c.kd, in.k), v(c.kd, in.v), out(c.kd, in.out), lse(kdtype::f32, in.lse),
      dout(c.kd, in.dout);
  DeviceArray dq(c.kd, s.q_count()), dk(c.kd, s.kv_count()), dv(c.kd, s.kv_count());
  DeviceArray work(kdtype::f32, size_t(attention_bwd_workspace_bytes(s.b, s.t, s.h) / 4));
  DeviceArray lengths(s.lengths.empty() ? std::vector<int32_t>{0} : s.lengths);
  dq.poison();
  dk.poison();
  dv.poison();
  work.poison();
  const kstatus status = attention_bwd(nullptr, q.data(), k.data(), v.data(), out.data(), lse.as<float>(), dout.data(),
                                       dq.data(), dk.data(), dv.data(), work.data(),
                                       s.lengths.empty() ? nullptr : lengths.as<int32_t>(), s.b, s.t, s.h, s.kvh, s.d,
                                       s.scale, s.padding, c.kd);
  EXPECT_EQ(status, KSTATUS_OK) << klast_error();
  Grads g{dq.download(), dk.download(), dv.download(), dq.bytes()};
  for (const DeviceArray* a : {&dk, &dv}) {
    const std::vector<uint8_t> b = a->bytes();
    g.bytes.insert(g.bytes.end(), b.begin(), b.end());
  }
  return g;
}

Grads run_cpu(const Shape& s, const emu_test::DtypeCase& c, const Inputs& in) {
  Context ctx;
  Buffer q(ctx, c.wpm, in.q), k(ctx, c.wpm, in.k), v(ctx, c.wpm, in.v), out(ctx, c.wpm, in.out),
      lse(ctx, WPM_F32, in.lse), dout(ctx, c.wpm, in.dout);
  Buffer dq(ctx, c.wpm, s.q_count()), dk(ctx, c.wpm, s.kv_count()), dv(ctx, c.wpm, s.kv_count());
  Buffer lengths(ctx, WPM_I32, std::max<size_t>(s.lengths.size(), 1));
  if (!s.lengths.empty()) lengths.upload_i32(s.lengths);
  dq.poison();
  dk.poison();
  dv.poison();
  wpm_attention_params p{sizeof p, s.b, s.t, s.h, s.kvh, s.d, s.scale,
                         s.padding == kpadding::left ? WPM_PAD_LEFT : WPM_PAD_RIGHT,
                         s.lengths.empty() ? nullptr : lengths.get(), q, k, v, out, lse, dout, dq, dk, dv};
  EXPECT_EQ(wpm_attention_bwd(ctx, &p), WPM_OK) << wpm_last_error();
  return Grads{dq.download(), dk.download(), dv.download(), {}};
}

// float64 from q, k, v, dout alone: P recomputed exactly, Delta_i = sum_j P_ij dP_ij; padding rows 0.
void reference(const Shape& s, const Inputs& in, std::vector<double>& dq, std::vector<double>& dk,
               std::vector<double>& dv) {
  dq.assign(s.q_count(), 0.0);
  dk.assign(s.kv_count(), 0.0);
  dv.assign(s.kv_count(), 0.0);
  const double scale = s.scale_or_default();
  auto row = [&](const std::vector<float>& x, int64_t b, int64_t t, int64_t heads, int64_t h) {
    return &x[size_t(((b * s.t + t) * heads + h) * s.d)];
  };
  std::vector<double> p, dp;
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t h = 0; h < s.h; ++h) {
      const int64_t g = h / (s.h / s.kvh), off = s.off(b);
      for (int64_t i = 0; i < s.len(b); ++i) {
        const float* qr = row(in.q, b, off + i, s.h, h);
        const float* dor = row(in.dout, b, off + i, s.h, h);
        p.assign(size_t(i + 1), 0.0);
        dp.assign(size_t(i + 1), 0.0);
        double mx = -INFINITY;
        for (int64_t j = 0; j <= i; ++j) {
          const float* kr = row(in.k, b, off + j, s.kvh, g);
          const float* vr = row(in.v, b, off + j, s.kvh, g);
          double dot = 0, ddot = 0;
          for (int64_t x = 0; x < s.d; ++x) dot += double(qr[x]) * kr[x], ddot += double(dor[x]) * vr[x];
          p[size_t(j)] = dot * scale;
          dp[size_t(j)] = ddot;
          mx = std::max(mx, p[size_t(j)]);
        }
        double sum = 0, delta = 0;
        for (double& e : p) sum += (e = std::exp(e - mx));
        for (int64_t j = 0; j <= i; ++j) delta += (p[size_t(j)] /= sum) * dp[size_t(j)];
        double* dqr = &dq[size_t(((b * s.t + off + i) * s.h + h) * s.d)];
        for (int64_t j = 0; j <= i; ++j) {
          const double ds = p[size_t(j)] * (dp[size_t(j)] - delta) * scale;
          const float* kr = row(in.k, b, off + j, s.kvh, g);
          double* dkr = &dk[size_t(((b * s.t + off + j) * s.kvh + g) * s.d)];
          double* dvr = &dv[size_t(((b * s.t + off + j) * s.kvh + g) * s.d)];
          for (int64_t x = 0; x < s.d; ++x) {
            dqr[x] += ds * kr[x];
            dkr[x] += ds * qr[x];
            dvr[x] += p[size_t(j)] * dor[x];
          }
        }
      }
    }
}

std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

void expect_zero_padding(const Shape& s, const std::vector<float>& x, int64_t heads, const std::string& what) {
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t t = 0; t < s.t; ++t) {
      if (s.valid(b, t)) continue;
      for (int64_t e = 0; e < heads * s.d; ++e)
        ASSERT_EQ(x[size_t((b * s.t + t) * heads * s.d + e)], 0.0f) << what << " padding b=" << b << " t=" << t;
    }
}

void check_against_references(const Shape& s, uint32_t seed) {
  for (const auto& c : kHalf) {
    const std::string label = s.label(c);
    const Inputs in = make_inputs(s, c, seed);
    const Grads emu = run_emu(s, c, in), cpu = run_cpu(s, c, in);
    std::vector<double> dq, dk, dv;
    reference(s, in, dq, dk, dv);
    EXPECT_LT(wpm_test::rel_error(emu.dq, dq), 1e-2) << label << ": dq vs float64";
    EXPECT_LT(wpm_test::rel_error(emu.dk, dk), 1e-2) << label << ": dk vs float64";
    EXPECT_LT(wpm_test::rel_error(emu.dv, dv), 1e-2) << label << ": dv vs float64";
    // A gradient that is exactly 0 (dq, dk when every sequence has one token: dS = P (dP - Delta) = 0)
    // is rounding noise in both implementations; the float64 check above bounds it absolutely.
    auto nonzero = [](const std::vector<double>& x) {
      return std::any_of(x.begin(), x.end(), [](double e) { return e != 0.0; });
    };
    if (nonzero(dq)) EXPECT_LT(wpm_test::rel_error(emu.dq, widen(cpu.dq)), 1e-2) << label << ": dq vs the CPU backend";
    if (nonzero(dk)) EXPECT_LT(wpm_test::rel_error(emu.dk, widen(cpu.dk)), 1e-2) << label << ": dk vs the CPU backend";
    EXPECT_LT(wpm_test::rel_error(emu.dv, widen(cpu.dv)), 1e-2) << label << ": dv vs the CPU backend";
    expect_zero_padding(s, emu.dq, s.h, label + " dq");
    expect_zero_padding(s, emu.dk, s.kvh, label + " dk");
    expect_zero_padding(s, emu.dv, s.kvh, label + " dv");
  }
}

TEST(EmuAttentionBwd, SingleTokenSequence) {
  for (int64_t d : {64, 128}) check_against_references({1, 1, 2, 1, d, kpadding::right, {}}, 11);
}

TEST(EmuAttentionBwd, RightPaddingWithATail) {
  for (int64_t d : {64, 128}) check_against_references({2, 17, 2, 2, d, kpadding::right, {17, 5}}, 12);
}

TEST(EmuAttentionBwd, LeftPaddingGqa4) {
  for (int64_t d : {64, 128}) check_against_references({2, 100, 4, 1, d, kpadding::left, {100, 37}}, 13);
}

TEST(EmuAttentionBwd, LengthOneInAFullTileGqa2) {
  for (int64_t d : {64, 128})
    for (kpadding pad : {kpadding::right, kpadding::left})
      check_against_references({2, 64, 4, 2, d, pad, {1, 64}}, 14);
}

TEST(EmuAttentionBwd, SeveralKeyTilesWithAnExplicitScale) {
  check_against_references({2, 150, 2, 1, 64, kpadding::right, {150, 131}, 0.07f}, 15);
}

// Every schedule, with late (default) and eager cp.async delivery, gives the first schedule's bytes.
TEST(EmuAttentionBwd, BitwiseIdenticalInEverySchedule) {
  const Shape shapes[] = {{1, 140, 2, 1, 64, kpadding::left, {130}}, {1, 100, 2, 2, 128, kpadding::right, {90}}};
  for (const Shape& s : shapes)
    for (const auto& c : kHalf) {
      const Inputs in = make_inputs(s, c, 16);
      std::vector<uint8_t> first;
      for (bool defer : {true, false})
        for (const auto& sched : emu_test::schedules()) {
          emu_test::ConfigScope scope(sched);
          emu::Config config = emu::config();
          config.defer_cp_async = defer;
          scope.set(config);
          const Grads g = run_emu(s, c, in);
          const std::string name = std::string(sched.name) + (defer ? " deferred" : " eager");
          if (first.empty()) {
            first = g.bytes;
            std::vector<double> dq, dk, dv;
            reference(s, in, dq, dk, dv);
            EXPECT_LT(wpm_test::rel_error(g.dq, dq), 1e-2) << s.label(c) << " " << name;
            EXPECT_LT(wpm_test::rel_error(g.dk, dk), 1e-2) << s.label(c) << " " << name;
            EXPECT_LT(wpm_test::rel_error(g.dv, dv), 1e-2) << s.label(c) << " " << name;
          } else {
            EXPECT_EQ(g.bytes, first) << s.label(c) << ": " << name << " differs from the first schedule";
          }
        }
    }
}

TEST(EmuAttentionBwd, LauncherChecksItsArguments) {
  alignas(16) uint16_t buf[8] = {};
  float lse = 0, work = 0;
  auto call = [&](const void* q, int64_t h, int64_t kvh, int64_t d, kdtype dtype) {
    return attention_bwd(nullptr, q, buf, buf, buf, &lse, buf, buf, buf, buf, &work, nullptr, 1, 1, h, kvh, d, 0,
                         kpadding::right, dtype);
  };
  EXPECT_EQ(call(buf, 1, 1, 32, kdtype::f16), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("d = 32"), std::string::npos) << klast_error();
  EXPECT_EQ(call(buf, 3, 2, 64, kdtype::f16), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("not a multiple"), std::string::npos) << klast_error();
  EXPECT_EQ(call(buf, 1, 1, 64, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(call(buf + 1, 1, 1, 64, kdtype::f16), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("16-byte aligned"), std::string::npos) << klast_error();
  EXPECT_EQ(attention_bwd(nullptr, buf, buf, buf, buf, &lse, buf, buf, buf, buf, nullptr, nullptr, 1, 1, 1, 1, 64, 0,
                          kpadding::right, kdtype::f16),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("null"), std::string::npos) << klast_error();
}

}  // namespace
