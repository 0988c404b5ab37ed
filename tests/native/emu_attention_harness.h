// What the emulated attention tests share, for any pair of launchers with
// attention_fwd's / attention_bwd's signature (the tensor-core kernels of
// attention.cu, the CUDA-core ones of attention_generic.cu): inputs with NaN
// padding rows, the emulated run (outputs poisoned first), the CPU backend
// through the C ABI (an independent implementation), a float64 reference, and
// the checks of one shape against both with the bounds of docs/numerics.md, "Tolerances".
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "emu_attention_shape.h"
#include "emu_test_util.h"
#include "test_util.h"

namespace attention_test {

using FwdLauncher = decltype(&attention_fwd);
struct BwdKernel {
  FwdLauncher fwd;  // makes the backward's out and lse
  decltype(&attention_bwd) bwd;
  decltype(&attention_bwd_workspace_bytes) workspace_bytes;  // (b, t, h, kvh, d)
};
inline constexpr BwdKernel kTensorCoreBwd{attention_fwd, attention_bwd, attention_bwd_workspace_bytes};
inline constexpr BwdKernel kGenericBwd{
    attention_generic_fwd, attention_generic_bwd,
    [](int64_t b, int64_t t, int64_t h, int64_t, int64_t) { return attention_generic_bwd_workspace_bytes(b, t, h); }};

// The storage dtypes of the tensor-core kernels.
inline constexpr std::initializer_list<emu_test::DtypeCase> kHalf = {{WPM_F16, kdtype::f16}, {WPM_BF16, kdtype::bf16}};

// q, k, v, dout random in the dtype; out and lse (backward only) from the emulated forward. The padding rows
// of every [b, t, ., d] tensor are NaN, so reading one poisons the result.
struct Inputs {
  std::vector<float> q, k, v, out, lse, dout;
};

inline void nan_padding(const Shape& s, std::vector<float>& x, int64_t heads) {
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t t = 0; t < s.t; ++t)
      if (!s.valid(b, t))
        std::fill_n(&x[size_t((b * s.t + t) * heads * s.d)], heads * s.d, std::numeric_limits<float>::quiet_NaN());
}

inline Inputs make_fwd_inputs(const Shape& s, wpm_dtype dtype, uint32_t seed) {
  Inputs in;
  in.q = wpm_test::random_values(s.q_count(), seed, -2.0f, 2.0f, dtype);
  in.k = wpm_test::random_values(s.kv_count(), seed + 1, -2.0f, 2.0f, dtype);
  in.v = wpm_test::random_values(s.kv_count(), seed + 2, -2.0f, 2.0f, dtype);
  nan_padding(s, in.q, s.h);
  nan_padding(s, in.k, s.kvh);
  nan_padding(s, in.v, s.kvh);
  return in;
}

inline const int32_t* lengths_or_null(const Shape& s, const emu_test::DeviceArray& lengths) {
  return s.lengths.empty() ? nullptr : lengths.as<int32_t>();
}
inline std::vector<int32_t> lengths_or_dummy(const Shape& s) {
  return s.lengths.empty() ? std::vector<int32_t>{0} : s.lengths;
}

struct FwdOutputs {
  std::vector<float> out, lse;
  std::vector<uint8_t> bytes;  // out then lse, for the schedule comparison
};

inline FwdOutputs run_emu_fwd(FwdLauncher launch, const Shape& s, const emu_test::DtypeCase& c, const Inputs& in) {
  using emu_test::DeviceArray;
  DeviceArray q(c.kd, in.q), k(c.kd, in.k), v(c.kd, in.v);
  DeviceArray out(c.kd, s.q_count()), lse(kdtype::f32, s.lse_count()), lengths(lengths_or_dummy(s));
  out.poison();
  lse.poison();
  const kstatus status = launch(nullptr, q.data(), k.data(), v.data(), lengths_or_null(s, lengths), out.data(),
                                lse.as<float>(), s.b, s.t, s.h, s.kvh, s.d, s.scale, s.padding, c.kd, nullptr, 0);
  EXPECT_EQ(status, KSTATUS_OK) << klast_error();
  FwdOutputs o{out.download(), lse.download(), out.bytes()};
  const std::vector<uint8_t> lse_bytes = lse.bytes();
  o.bytes.insert(o.bytes.end(), lse_bytes.begin(), lse_bytes.end());
  return o;
}

inline Inputs make_bwd_inputs(FwdLauncher fwd, const Shape& s, const emu_test::DtypeCase& c, uint32_t seed) {
  Inputs in = make_fwd_inputs(s, c.wpm, seed);
  in.dout = wpm_test::random_values(s.q_count(), seed + 3, -1.0f, 1.0f, c.wpm);
  nan_padding(s, in.dout, s.h);
  FwdOutputs o = run_emu_fwd(fwd, s, c, in);
  in.out = std::move(o.out);
  in.lse = std::move(o.lse);
  nan_padding(s, in.out, s.h);
  return in;
}

inline wpm_attention_params cpu_params(const Shape& s, const wpm_buffer* lengths) {
  wpm_attention_params p{};
  p.struct_size = sizeof p;
  p.b = s.b, p.t = s.t, p.h = s.h, p.kvh = s.kvh, p.d = s.d;
  p.scale = s.scale;
  p.padding = s.padding == kpadding::left ? WPM_PAD_LEFT : WPM_PAD_RIGHT;
  p.lengths = s.lengths.empty() ? nullptr : lengths;
  return p;
}

inline FwdOutputs run_cpu_fwd(const Shape& s, const emu_test::DtypeCase& c, const Inputs& in) {
  using wpm_test::Buffer;
  wpm_test::Context ctx;
  Buffer q(ctx, c.wpm, in.q), k(ctx, c.wpm, in.k), v(ctx, c.wpm, in.v);
  Buffer out(ctx, c.wpm, s.q_count()), lse(ctx, WPM_F32, s.lse_count());
  Buffer lengths(ctx, WPM_I32, std::max<size_t>(s.lengths.size(), 1));
  if (!s.lengths.empty()) lengths.upload_i32(s.lengths);
  out.poison();
  lse.poison();
  wpm_attention_params p = cpu_params(s, lengths);
  p.q = q, p.k = k, p.v = v, p.out = out, p.lse = lse;
  EXPECT_EQ(wpm_attention_fwd(ctx, &p), WPM_OK) << wpm_last_error();
  return FwdOutputs{out.download(), lse.download(), {}};
}

// float64: query i of a sequence attends its keys 0..i; padding rows 0.
inline void reference_fwd(const Shape& s, const Inputs& in, std::vector<double>& out, std::vector<double>& lse) {
  out.assign(s.q_count(), 0.0);
  lse.assign(s.lse_count(), 0.0);
  const double scale = s.scale_or_default();
  std::vector<double> p;
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t h = 0; h < s.h; ++h) {
      const int64_t g = h / (s.h / s.kvh), off = s.off(b);
      for (int64_t i = 0; i < s.len(b); ++i) {
        const float* qr = &in.q[size_t(((b * s.t + off + i) * s.h + h) * s.d)];
        p.assign(size_t(i + 1), 0.0);
        double mx = -INFINITY;
        for (int64_t j = 0; j <= i; ++j) {
          const float* kr = &in.k[size_t(((b * s.t + off + j) * s.kvh + g) * s.d)];
          double dot = 0;
          for (int64_t x = 0; x < s.d; ++x) dot += double(qr[x]) * kr[x];
          p[size_t(j)] = dot * scale;
          mx = std::max(mx, p[size_t(j)]);
        }
        double sum = 0;
        for (double& e : p) sum += (e = std::exp(e - mx));
        double* o = &out[size_t(((b * s.t + off + i) * s.h + h) * s.d)];
        for (int64_t j = 0; j <= i; ++j) {
          const float* vr = &in.v[size_t(((b * s.t + off + j) * s.kvh + g) * s.d)];
          for (int64_t x = 0; x < s.d; ++x) o[x] += p[size_t(j)] / sum * vr[x];
        }
        lse[size_t((b * s.h + h) * s.t + off + i)] = mx + std::log(sum);
      }
    }
}

struct Grads {
  std::vector<float> dq, dk, dv;
  std::vector<uint8_t> bytes;  // dq, dk, dv, for the schedule comparison
};

inline Grads run_emu_bwd(const BwdKernel& kernel, const Shape& s, const emu_test::DtypeCase& c, const Inputs& in) {
  using emu_test::DeviceArray;
  DeviceArray q(c.kd, in.q), k(c.kd, in.k), v(c.kd, in.v), out(c.kd, in.out), lse(kdtype::f32, in.lse),
      dout(c.kd, in.dout);
  DeviceArray dq(c.kd, s.q_count()), dk(c.kd, s.kv_count()), dv(c.kd, s.kv_count());
  DeviceArray work(kdtype::f32, size_t(kernel.workspace_bytes(s.b, s.t, s.h, s.kvh, s.d) / 4));
  DeviceArray lengths(lengths_or_dummy(s));
  for (DeviceArray* a : {&dq, &dk, &dv, &work}) a->poison();
  const kstatus status =
      kernel.bwd(nullptr, q.data(), k.data(), v.data(), out.data(), lse.as<float>(), dout.data(), dq.data(), dk.data(),
                 dv.data(), work.data(), lengths_or_null(s, lengths), s.b, s.t, s.h, s.kvh, s.d, s.scale, s.padding,
                 c.kd, nullptr, 0);
  EXPECT_EQ(status, KSTATUS_OK) << klast_error();
  Grads g{dq.download(), dk.download(), dv.download(), dq.bytes()};
  for (const DeviceArray* a : {&dk, &dv}) {
    const std::vector<uint8_t> b = a->bytes();
    g.bytes.insert(g.bytes.end(), b.begin(), b.end());
  }
  return g;
}

inline Grads run_cpu_bwd(const Shape& s, const emu_test::DtypeCase& c, const Inputs& in) {
  using wpm_test::Buffer;
  wpm_test::Context ctx;
  Buffer q(ctx, c.wpm, in.q), k(ctx, c.wpm, in.k), v(ctx, c.wpm, in.v), out(ctx, c.wpm, in.out),
      lse(ctx, WPM_F32, in.lse), dout(ctx, c.wpm, in.dout);
  Buffer dq(ctx, c.wpm, s.q_count()), dk(ctx, c.wpm, s.kv_count()), dv(ctx, c.wpm, s.kv_count());
  Buffer lengths(ctx, WPM_I32, std::max<size_t>(s.lengths.size(), 1));
  if (!s.lengths.empty()) lengths.upload_i32(s.lengths);
  dq.poison();
  dk.poison();
  dv.poison();
  wpm_attention_params p = cpu_params(s, lengths);
  p.q = q, p.k = k, p.v = v, p.out = out, p.lse = lse, p.dout = dout, p.dq = dq, p.dk = dk, p.dv = dv;
  EXPECT_EQ(wpm_attention_bwd(ctx, &p), WPM_OK) << wpm_last_error();
  return Grads{dq.download(), dk.download(), dv.download(), {}};
}

// float64 from q, k, v, dout alone: P recomputed exactly, Delta_i = sum_j P_ij dP_ij; padding rows 0.
inline void reference_bwd(const Shape& s, const Inputs& in, std::vector<double>& dq, std::vector<double>& dk,
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

inline std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// Every element of the padding rows of x [b, t, heads, d] is exactly 0 (the poison was overwritten).
inline void expect_zero_padding(const Shape& s, const std::vector<float>& x, int64_t heads, const std::string& what) {
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t t = 0; t < s.t; ++t) {
      if (s.valid(b, t)) continue;
      for (int64_t e = 0; e < heads * s.d; ++e)
        ASSERT_EQ(x[size_t((b * s.t + t) * heads * s.d + e)], 0.0f) << what << " padding b=" << b << " t=" << t;
    }
}

// docs/numerics.md, "Tolerances": f16/bf16 storage 1e-2 (out and gradients) and 1e-3 for lse, which stays fp32 and only sees the
// rounded inputs; fp32 1e-4 (reductions and matmul chains) and 1e-5 for lse.
inline double out_tolerance(const emu_test::DtypeCase& c) { return wpm_test::tolerance(c.wpm, true); }
inline double lse_tolerance(const emu_test::DtypeCase& c) { return c.wpm == WPM_F32 ? 1e-5 : 1e-3; }

// The forward of one shape in each dtype against float64 and the CPU backend; padding rows exactly 0.
// Returns the worst relative error of out seen (for the record in test output).
inline double check_fwd(FwdLauncher launch, const Shape& s, std::initializer_list<emu_test::DtypeCase> dtypes,
                        uint32_t seed) {
  double worst = 0;
  for (const auto& c : dtypes) {
    const std::string label = s.label(c);
    const Inputs in = make_fwd_inputs(s, c.wpm, seed);
    const FwdOutputs emu = run_emu_fwd(launch, s, c, in), cpu = run_cpu_fwd(s, c, in);
    std::vector<double> ref_out, ref_lse;
    reference_fwd(s, in, ref_out, ref_lse);
    const double e_out = wpm_test::rel_error(emu.out, ref_out);
    worst = std::max(worst, e_out);
    EXPECT_LT(e_out, out_tolerance(c)) << label << ": out vs float64";
    EXPECT_LT(wpm_test::rel_error(emu.out, widen(cpu.out)), out_tolerance(c)) << label << ": out vs the CPU backend";
    EXPECT_LT(wpm_test::rel_error(emu.lse, ref_lse), lse_tolerance(c)) << label << ": lse vs float64";
    EXPECT_LT(wpm_test::rel_error(emu.lse, widen(cpu.lse)), lse_tolerance(c)) << label << ": lse vs the CPU backend";
    expect_zero_padding(s, emu.out, s.h, label + " out");
    for (int64_t b = 0; b < s.b; ++b)
      for (int64_t t = 0; t < s.t; ++t)
        for (int64_t h = 0; h < s.h && !s.valid(b, t); ++h)
          EXPECT_EQ(emu.lse[size_t((b * s.h + h) * s.t + t)], 0.0f) << label << " lse padding b=" << b << " t=" << t;
  }
  return worst;
}

// The backward of one shape in each dtype against float64 and the CPU backend; padding rows exactly 0.
// Returns the worst relative error of dq, dk, dv vs float64.
inline double check_bwd(const BwdKernel& kernel, const Shape& s, std::initializer_list<emu_test::DtypeCase> dtypes,
                        uint32_t seed) {
  double worst = 0;
  for (const auto& c : dtypes) {
    const std::string label = s.label(c);
    const Inputs in = make_bwd_inputs(kernel.fwd, s, c, seed);
    const Grads emu = run_emu_bwd(kernel, s, c, in), cpu = run_cpu_bwd(s, c, in);
    std::vector<double> dq, dk, dv;
    reference_bwd(s, in, dq, dk, dv);
    const double tol = out_tolerance(c);
    const double e_dq = wpm_test::rel_error(emu.dq, dq), e_dk = wpm_test::rel_error(emu.dk, dk),
                 e_dv = wpm_test::rel_error(emu.dv, dv);
    worst = std::max({worst, e_dq, e_dk, e_dv});
    EXPECT_LT(e_dq, tol) << label << ": dq vs float64";
    EXPECT_LT(e_dk, tol) << label << ": dk vs float64";
    EXPECT_LT(e_dv, tol) << label << ": dv vs float64";
    // A gradient that is exactly 0 (dq, dk when every sequence has one token: dS = P (dP - Delta) = 0)
    // is rounding noise in both implementations; the float64 check above bounds it absolutely.
    auto nonzero = [](const std::vector<double>& x) {
      return std::any_of(x.begin(), x.end(), [](double e) { return e != 0.0; });
    };
    if (nonzero(dq)) EXPECT_LT(wpm_test::rel_error(emu.dq, widen(cpu.dq)), tol) << label << ": dq vs the CPU backend";
    if (nonzero(dk)) EXPECT_LT(wpm_test::rel_error(emu.dk, widen(cpu.dk)), tol) << label << ": dk vs the CPU backend";
    EXPECT_LT(wpm_test::rel_error(emu.dv, widen(cpu.dv)), tol) << label << ": dv vs the CPU backend";
    expect_zero_padding(s, emu.dq, s.h, label + " dq");
    expect_zero_padding(s, emu.dk, s.kvh, label + " dk");
    expect_zero_padding(s, emu.dv, s.kvh, label + " dv");
  }
  return worst;
}

}  // namespace attention_test
