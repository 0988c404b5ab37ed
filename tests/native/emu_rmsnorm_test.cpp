// kernels/rmsnorm.cu under the emulator: forward (out, rstd) and backward (dx,
// dweight accumulated onto its old value) against float64 formulas and the CPU
// backend, f32/f16/bf16, odd widths, row counts that make several row blocks
// of several rows (the fixed-order dweight partials), outputs poisoned, and
// the same bits in every schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using emu_test::DeviceArray;
using emu_test::DtypeCase;
using emu_test::kDtypes;
using wpm_test::Buffer;
using wpm_test::Context;

constexpr float kEps = 1e-6f;

struct Inputs {
  std::vector<float> x, w, dout, dweight;
};

Inputs make_inputs(const DtypeCase& c, int64_t n, int64_t cols, uint32_t seed) {
  Inputs in;
  in.x = wpm_test::random_values(size_t(n * cols), seed, -2.0f, 2.0f, c.wpm);
  in.w = wpm_test::random_values(size_t(cols), seed + 1, 0.5f, 1.5f, c.wpm);
  in.dout = wpm_test::random_values(size_t(n * cols), seed + 2, -1.0f, 1.0f, c.wpm);
  in.dweight = wpm_test::random_values(size_t(cols), seed + 3, -1.0f, 1.0f, c.wpm);
  return in;
}

struct Outputs {
  std::vector<float> out, rstd, dx, dweight;
  std::vector<uint8_t> bytes;
};

Outputs run_emu(const DtypeCase& c, const Inputs& in, int64_t n, int64_t cols) {
  DeviceArray x(c.kd, in.x), w(c.kd, in.w), dout(c.kd, in.dout), dweight(c.kd, in.dweight);
  DeviceArray out(c.kd, in.x.size()), dx(c.kd, in.x.size()), rstd(kdtype::f32, size_t(n));
  DeviceArray workspace(kdtype::f32, size_t(rmsnorm_bwd_workspace_bytes(n, cols) / 4));
  out.poison();
  dx.poison();
  rstd.poison();
  workspace.poison();
  EXPECT_EQ(rmsnorm_fwd(nullptr, x.data(), w.data(), out.data(), rstd.as<float>(), n, cols, kEps, c.kd), KSTATUS_OK)
      << klast_error();
  EXPECT_EQ(rmsnorm_bwd(nullptr, dout.data(), x.data(), w.data(), rstd.as<float>(), dx.data(), dweight.data(),
                        workspace.data(), n, cols, c.kd),
            KSTATUS_OK)
      << klast_error();
  Outputs o{out.download(), rstd.download(), dx.download(), dweight.download(), {}};
  for (const DeviceArray* a : {&out, &rstd, &dx, &dweight}) {
    const auto b = a->bytes();
    o.bytes.insert(o.bytes.end(), b.begin(), b.end());
  }
  return o;
}

Outputs run_cpu(const DtypeCase& c, const Inputs& in, int64_t n, int64_t cols) {
  Context ctx;
  Buffer x(ctx, c.wpm, in.x), w(ctx, c.wpm, in.w), dout(ctx, c.wpm, in.dout), dweight(ctx, c.wpm, in.dweight);
  Buffer out(ctx, c.wpm, in.x.size()), dx(ctx, c.wpm, in.x.size()), rstd(ctx, WPM_F32, size_t(n));
  EXPECT_EQ(wpm_test::rmsnorm_fwd(ctx, x, w, out, rstd, n, cols, kEps), WPM_OK) << wpm_last_error();
  EXPECT_EQ(wpm_test::rmsnorm_bwd(ctx, dout, x, w, rstd, dx, dweight, n, cols), WPM_OK) << wpm_last_error();
  return Outputs{out.download(), rstd.download(), dx.download(), dweight.download(), {}};
}

Outputs reference(const Inputs& in, int64_t n, int64_t cols) {
  Outputs r;
  r.out.resize(in.x.size());
  r.dx.resize(in.x.size());
  r.rstd.resize(size_t(n));
  std::vector<double> dw(in.dweight.begin(), in.dweight.end());
  std::vector<double> out(in.x.size()), dx(in.x.size());
  for (int64_t i = 0; i < n; ++i) {
    const float* x = &in.x[size_t(i * cols)];
    const float* d = &in.dout[size_t(i * cols)];
    double ss = 0, dot = 0;
    for (int64_t j = 0; j < cols; ++j) ss += double(x[j]) * x[j];
    const double rs = 1 / std::sqrt(ss / double(cols) + kEps);
    for (int64_t j = 0; j < cols; ++j) dot += double(d[j]) * in.w[size_t(j)] * x[j];
    r.rstd[size_t(i)] = float(rs);
    for (int64_t j = 0; j < cols; ++j) {
      r.out[size_t(i * cols + j)] = float(x[j] * rs * in.w[size_t(j)]);
      r.dx[size_t(i * cols + j)] = float(rs * (d[j] * in.w[size_t(j)] - x[j] * rs * rs * dot / double(cols)));
      dw[size_t(j)] += double(d[j]) * x[j] * rs;
    }
  }
  r.dweight.assign(dw.begin(), dw.end());
  return r;
}

std::vector<double> as_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

TEST(EmuRmsnorm, MatchesFloat64AndTheCpuBackend) {
  struct Shape { int64_t n, c; };
  // 1025 rows: 4 rows per row block (the floor), the last block short (the partial-row partition); 2100 rows:
  // 5 a block (ceil(2100 / 512), over the floor); the forward's last 8-row block short in both.
  for (Shape s : {Shape{1, 7}, Shape{37, 1000}, Shape{1025, 33}, Shape{2100, 9}})
    for (const DtypeCase& c : kDtypes) {
      const Inputs in = make_inputs(c, s.n, s.c, uint32_t(s.n * 13 + s.c));
      const Outputs emu_out = run_emu(c, in, s.n, s.c), cpu = run_cpu(c, in, s.n, s.c), ref = reference(in, s.n, s.c);
      const std::string label = std::string(wpm_test::dtype_label(c.wpm)) + " n=" + std::to_string(s.n) +
                                " c=" + std::to_string(s.c);
      const double tol = wpm_test::tolerance(c.wpm, true);
      auto check = [&](const char* what, const std::vector<float>& got, const std::vector<float>& r,
                       const std::vector<float>& cpu_out) {
        EXPECT_LT(wpm_test::rel_error(got, as_double(r)), tol) << label << " " << what << " vs float64";
        EXPECT_LT(wpm_test::rel_error(got, as_double(cpu_out)), tol) << label << " " << what << " vs the CPU backend";
      };
      check("out", emu_out.out, ref.out, cpu.out);
      check("rstd", emu_out.rstd, ref.rstd, cpu.rstd);
      check("dx", emu_out.dx, ref.dx, cpu.dx);
      check("dweight", emu_out.dweight, ref.dweight, cpu.dweight);
    }
}

TEST(EmuRmsnorm, BitwiseIdenticalInEverySchedule) {
  for (const DtypeCase& c : kDtypes) {
    const Inputs in = make_inputs(c, 515, 97, 5);  // 4 rows per row block, the last of 3; 8-row forward blocks, the last of 3
    emu_test::expect_same_bits_in_every_schedule([&] { return run_emu(c, in, 515, 97).bytes; },
                                                 std::string("rmsnorm ") + wpm_test::dtype_label(c.wpm));
  }
}

TEST(EmuRmsnorm, LauncherChecksItsArguments) {
  float v = 1.0f;
  EXPECT_EQ(rmsnorm_fwd(nullptr, &v, &v, &v, &v, 1, 0, kEps, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("c = 0"), std::string::npos) << klast_error();
  EXPECT_EQ(rmsnorm_bwd(nullptr, &v, &v, &v, &v, &v, &v, nullptr, 1, 1, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("a pointer is null"), std::string::npos) << klast_error();
  EXPECT_EQ(rmsnorm_bwd(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0, 4, kdtype::f32),
            KSTATUS_OK);
  // A row too wide to stage in one block's shared memory (f32: 16 bytes a column in the backward, 8 forward).
  EXPECT_EQ(rmsnorm_fwd(nullptr, &v, &v, &v, &v, 1, 1 << 15, kEps, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("c = 32768"), std::string::npos) << klast_error();
  EXPECT_EQ(rmsnorm_bwd(nullptr, &v, &v, &v, &v, &v, &v, &v, 1, 12000, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("c = 12000"), std::string::npos) << klast_error();
}

}  // namespace
