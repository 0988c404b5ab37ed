// kernels/gelu.cu run through the emulator: against a float64 formula and
// against the CPU backend (an independent implementation, through the C ABI),
// in f32/f16/bf16, at sizes with vector tails and on unaligned pointers,
// outputs poisoned first; and bitwise identical in every schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;

struct Case {
  wpm_dtype dtype;
  kdtype kd;
};
constexpr Case kCases[] = {{WPM_F32, kdtype::f32}, {WPM_F16, kdtype::f16}, {WPM_BF16, kdtype::bf16}};

// GELU and its derivative in float64, in forms that do not cancel for
// negative x (1 + tanh(u) is exactly 0 in double at x = -9): tanh form as
// x sigmoid(2u), exact form with erfc.
double ref_gelu(double x, bool exact) {
  if (exact) return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
  const double u = std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x);
  return x / (1 + std::exp(-2 * u));
}

double ref_grad(double x, bool exact) {
  if (exact) return 0.5 * std::erfc(-x / std::sqrt(2.0)) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
  const double k = std::sqrt(2 / M_PI);
  const double u = k * (x + 0.044715 * x * x * x);
  const double s = 1 / (1 + std::exp(-2 * u)), one_minus_s = 1 / (1 + std::exp(2 * u));
  return s + 2 * x * s * one_minus_s * k * (1 + 3 * 0.044715 * x * x);
}

// An emulated device buffer holding `values` in `dtype` storage, optionally one element off 16-byte alignment.
class DeviceArray {
 public:
  DeviceArray(wpm_dtype dtype, size_t n, bool misalign) : dtype_(dtype), n_(n) {
    base_ = static_cast<char*>(emu::device_alloc((n + 1) * size(), "gelu test"));
    data_ = base_ + (misalign ? size() : 0);
  }
  ~DeviceArray() { emu::device_free(base_); }
  size_t size() const { return dtype_ == WPM_F32 ? 4 : 2; }
  void* data() const { return data_; }
  void upload(const std::vector<float>& v) {
    for (size_t i = 0; i < n_; ++i) {
      if (dtype_ == WPM_F32) {
        std::memcpy(data_ + 4 * i, &v[i], 4);
      } else {
        const uint16_t h = dtype_ == WPM_F16 ? wpm::float_to_f16(v[i]) : wpm::float_to_bf16(v[i]);
        std::memcpy(data_ + 2 * i, &h, 2);
      }
    }
  }
  void poison() { std::memset(data_, 0xFF, n_ * size()); }  // NaN in every dtype
  std::vector<float> download() const {
    std::vector<float> out(n_);
    for (size_t i = 0; i < n_; ++i) {
      if (dtype_ == WPM_F32) {
        std::memcpy(&out[i], data_ + 4 * i, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, data_ + 2 * i, 2);
        out[i] = dtype_ == WPM_F16 ? wpm::f16_to_float(h) : wpm::bf16_to_float(h);
      }
    }
    return out;
  }
  std::vector<uint8_t> bytes() const { return std::vector<uint8_t>(data_, data_ + n_ * size()); }

 private:
  wpm_dtype dtype_;
  size_t n_;
  char* base_;
  char* data_;
};

struct EmuRun {
  std::vector<float> values;
  std::vector<uint8_t> bytes;
};

EmuRun run_emu(const Case& c, bool bwd, bool exact, const std::vector<float>& x, const std::vector<float>& dout,
            bool misalign) {
  const size_t n = x.size();
  DeviceArray dx(c.dtype, n, misalign), dg(c.dtype, n, misalign), out(c.dtype, n, misalign);
  dx.upload(x);
  dg.upload(dout);
  out.poison();
  const gelu_form form = exact ? gelu_form::exact : gelu_form::tanh;
  const kstatus status = bwd ? gelu_bwd(nullptr, dg.data(), dx.data(), out.data(), int64_t(n), form, c.kd)
                             : gelu_fwd(nullptr, dx.data(), out.data(), int64_t(n), form, c.kd);
  EXPECT_EQ(status, KSTATUS_OK) << klast_error();
  return EmuRun{out.download(), out.bytes()};
}

std::vector<float> run_cpu(const Case& c, bool bwd, bool exact, const std::vector<float>& x,
                           const std::vector<float>& dout) {
  Context ctx;
  Buffer bx(ctx, c.dtype, x), bd(ctx, c.dtype, dout), out(ctx, c.dtype, x.size());
  out.poison();
  const wpm_gelu_kind kind = exact ? WPM_GELU_EXACT : WPM_GELU_TANH;
  const int64_t n = int64_t(x.size());
  const wpm_status status = bwd ? wpm_gelu_bwd(ctx, bd, bx, out, n, kind) : wpm_gelu_fwd(ctx, bx, out, n, kind);
  EXPECT_EQ(status, WPM_OK) << wpm_last_error();
  return out.download();
}

void check_against_references(size_t n, bool misalign) {
  for (const Case& c : kCases)
    for (bool exact : {false, true})
      for (bool bwd : {false, true}) {
        const auto x = wpm_test::random_values(n, uint32_t(n * 7 + exact * 3 + bwd), -5.0f, 5.0f, c.dtype);
        const auto dout = wpm_test::random_values(n, uint32_t(n * 11 + 1), -2.0f, 2.0f, c.dtype);
        const EmuRun emu_out = run_emu(c, bwd, exact, x, dout, misalign);
        std::vector<double> ref(n), cpu_ref(n);
        for (size_t i = 0; i < n; ++i) ref[i] = bwd ? dout[i] * ref_grad(x[i], exact) : ref_gelu(x[i], exact);
        const auto cpu = run_cpu(c, bwd, exact, x, dout);
        for (size_t i = 0; i < n; ++i) cpu_ref[i] = cpu[i];
        const double tol = wpm_test::tolerance(c.dtype, false);
        const std::string label = std::string(wpm_test::dtype_label(c.dtype)) + (exact ? " exact " : " tanh ") +
                                  (bwd ? "bwd" : "fwd") + " n=" + std::to_string(n) +
                                  (misalign ? " misaligned" : "");
        EXPECT_LT(wpm_test::rel_error(emu_out.values, ref), tol) << label << " vs float64";
        EXPECT_LT(wpm_test::rel_error(emu_out.values, cpu_ref), tol) << label << " vs the CPU backend";
      }
}

TEST(EmuGelu, MatchesFloat64AndTheCpuBackendAtOddSizes) {
  for (size_t n : {size_t(1), size_t(7), size_t(1000), size_t(4099)}) check_against_references(n, false);
}

TEST(EmuGelu, MisalignedPointersTakeTheScalarPath) { check_against_references(1001, true); }

TEST(EmuGelu, LargeTensorWithATail) { check_against_references(1000003, false); }

// Element by element, not by norm: for negative x the result is tiny, and a
// form with 1 + tanh(u) or 1 + erf(z) would lose most digits there. The bound
// is 1e-4, not 1e-5: at x = -9 exp's argument 2|u| ~ 66 carries fp32 rounding
// of ~4e-6 relative into the result.
TEST(EmuGelu, FarNegativeTailKeepsItsRelativeAccuracy) {
  const std::vector<float> x = {-9.0f, -6.0f, -4.0f, -2.0f, -0.5f, 0.5f, 3.0f, 9.0f};
  const std::vector<float> dout(x.size(), 1.0f);
  for (bool exact : {false, true})
    for (bool bwd : {false, true}) {
      const EmuRun r = run_emu(kCases[0], bwd, exact, x, dout, false);
      for (size_t i = 0; i < x.size(); ++i) {
        const double ref = bwd ? ref_grad(x[i], exact) : ref_gelu(x[i], exact);
        EXPECT_LT(std::fabs(r.values[i] - ref), 1e-4 * std::fabs(ref))
            << (exact ? "exact " : "tanh ") << (bwd ? "bwd" : "fwd") << " x = " << x[i] << ": " << r.values[i]
            << " vs " << ref;
      }
    }
}

TEST(EmuGelu, BitwiseIdenticalInEverySchedule) {
  for (const Case& c : kCases)
    for (bool exact : {false, true})
      for (bool bwd : {false, true}) {
        const size_t n = 4099;
        const auto x = wpm_test::random_values(n, 5, -5.0f, 5.0f, c.dtype);
        const auto dout = wpm_test::random_values(n, 6, -2.0f, 2.0f, c.dtype);
        std::vector<uint8_t> first;
        for (const auto& s : emu_test::schedules()) {
          emu_test::ConfigScope scope(s);
          const EmuRun r = run_emu(c, bwd, exact, x, dout, false);
          if (first.empty()) {
            first = r.bytes;
          } else {
            EXPECT_EQ(r.bytes, first) << s.name << " " << wpm_test::dtype_label(c.dtype);
          }
        }
      }
}

TEST(EmuGelu, LauncherChecksItsArguments) {
  float x = 1.0f;
  EXPECT_EQ(gelu_fwd(nullptr, &x, nullptr, 1, gelu_form::tanh, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("a pointer is null"), std::string::npos) << klast_error();
  EXPECT_EQ(gelu_fwd(nullptr, &x, &x, -1, gelu_form::tanh, kdtype::f32), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("n = -1"), std::string::npos) << klast_error();
  EXPECT_EQ(gelu_fwd(nullptr, nullptr, nullptr, 0, gelu_form::tanh, kdtype::f32), KSTATUS_OK);
}

}  // namespace
