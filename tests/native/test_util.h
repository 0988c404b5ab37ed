// Shared helpers for the native tests: a context per test, buffers filled from
// host vectors in any dtype, poisoning, and the error metric ||out - ref|| / ||ref||
// against float64 references (NaN never passes; docs/numerics.md, "How results are compared").
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "half.h"
#include "worldpm.h"

namespace wpm_test {

#define WPM_ASSERT_OK(expr)                                         \
  do {                                                              \
    wpm_status status_ = (expr);                                    \
    ASSERT_EQ(status_, WPM_OK) << #expr << ": " << wpm_last_error(); \
  } while (0)

// A context for one test, on the CPU unless told otherwise.
class Context {
 public:
  explicit Context(int threads = 0, wpm_backend backend = WPM_BACKEND_CPU) {
    wpm_context_options options{sizeof(wpm_context_options), backend, threads, 0};
    if (wpm_context_create(&options, &ctx_) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  }
  ~Context() { wpm_context_destroy(ctx_); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  wpm_context* get() const { return ctx_; }
  operator wpm_context*() const { return ctx_; }

 private:
  wpm_context* ctx_ = nullptr;
};

// Rounds a float through a storage dtype, as a buffer of that dtype would hold it.
inline float round_to(wpm_dtype dtype, float v) {
  switch (dtype) {
    case WPM_F16: return wpm::f16_to_float(wpm::float_to_f16(v));
    case WPM_BF16: return wpm::bf16_to_float(wpm::float_to_bf16(v));
    default: return v;
  }
}

// An owned buffer. Values cross the boundary as float (converted to/from dtype).
class Buffer {
 public:
  Buffer(wpm_context* ctx, wpm_dtype dtype, size_t count) : dtype_(dtype), count_(count) {
    if (wpm_buffer_alloc(ctx, dtype, count, &buf_) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  }
  Buffer(wpm_context* ctx, wpm_dtype dtype, const std::vector<float>& values) : Buffer(ctx, dtype, values.size()) {
    upload(values);
  }
  ~Buffer() { wpm_buffer_free(buf_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept : buf_(other.buf_), dtype_(other.dtype_), count_(other.count_) {
    other.buf_ = nullptr;
  }

  wpm_buffer* get() const { return buf_; }
  operator wpm_buffer*() const { return buf_; }
  size_t size() const { return count_; }
  wpm_dtype dtype() const { return dtype_; }

  void upload(const std::vector<float>& values) {
    std::vector<uint16_t> half(values.size());
    const void* src = values.data();
    if (dtype_ == WPM_F16 || dtype_ == WPM_BF16) {
      for (size_t i = 0; i < values.size(); ++i)
        half[i] = dtype_ == WPM_F16 ? wpm::float_to_f16(values[i]) : wpm::float_to_bf16(values[i]);
      src = half.data();
    }
    if (wpm_buffer_write(buf_, 0, src, values.size()) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  }
  void upload_i32(const std::vector<int32_t>& values) {
    if (wpm_buffer_write(buf_, 0, values.data(), values.size()) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  }

  std::vector<float> download() const {
    std::vector<float> out(count_);
    if (dtype_ == WPM_F32) {
      if (wpm_buffer_read(buf_, 0, out.data(), count_) != WPM_OK) ADD_FAILURE() << wpm_last_error();
      return out;
    }
    std::vector<uint16_t> half(count_);
    if (wpm_buffer_read(buf_, 0, half.data(), count_) != WPM_OK) ADD_FAILURE() << wpm_last_error();
    for (size_t i = 0; i < count_; ++i)
      out[i] = dtype_ == WPM_F16 ? wpm::f16_to_float(half[i]) : wpm::bf16_to_float(half[i]);
    return out;
  }

  // Fills with NaN so an element the op forgets to write fails the comparison.
  void poison() { upload(std::vector<float>(count_, std::numeric_limits<float>::quiet_NaN())); }

 private:
  wpm_buffer* buf_ = nullptr;
  wpm_dtype dtype_;
  size_t count_;
};

// Fresh random values (never all zeros), rounded to what dtype can hold.
inline std::vector<float> random_values(size_t n, uint32_t seed, float low = -2.0f, float high = 2.0f,
                                        wpm_dtype dtype = WPM_F32) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> v(n);
  for (auto& x : v) x = round_to(dtype, dist(rng));
  return v;
}

// ||out - ref|| / ||ref||; infinity if any element is NaN/inf or sizes differ.
inline double rel_error(const std::vector<float>& out, const std::vector<double>& ref) {
  if (out.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double num = 0, den = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return std::numeric_limits<double>::infinity();
    double d = double(out[i]) - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  if (den == 0) return std::sqrt(num);
  return std::sqrt(num / den);
}

// docs/numerics.md, "Tolerances": fp32 elementwise 1e-5, fp32 reductions/GEMM chains 1e-4, f16/bf16 storage 1e-2.
inline double tolerance(wpm_dtype dtype, bool reduction) {
  if (dtype == WPM_F32) return reduction ? 1e-4 : 1e-5;
  return 1e-2;
}

inline const char* dtype_label(wpm_dtype dtype) {
  switch (dtype) {
    case WPM_F32: return "f32";
    case WPM_F16: return "f16";
    case WPM_BF16: return "bf16";
    default: return "i32";
  }
}

// One RoPE, RMSNorm or last-token pooling call with its parameter struct filled from the
// arguments a test names (x doubles as dx for the RoPE backward, which rotates its gradient
// in place).
inline wpm_status rope(wpm_context* ctx, bool backward, wpm_buffer* x, const wpm_buffer* positions, int64_t b,
                       int64_t t, int64_t h, int64_t d, float theta) {
  wpm_rope_params p{};
  p.struct_size = sizeof p;
  p.b = b, p.t = t, p.h = h, p.d = d, p.theta = theta;
  p.positions = positions;
  (backward ? p.dx : p.x) = x;
  return backward ? wpm_rope_bwd(ctx, &p) : wpm_rope_fwd(ctx, &p);
}
inline wpm_status rmsnorm_fwd(wpm_context* ctx, const wpm_buffer* x, const wpm_buffer* weight, wpm_buffer* out,
                              wpm_buffer* rstd, int64_t n, int64_t c, float eps) {
  wpm_rmsnorm_params p{};
  p.struct_size = sizeof p;
  p.n = n, p.c = c, p.eps = eps;
  p.x = x, p.weight = weight, p.out = out, p.rstd = rstd;
  return wpm_rmsnorm_fwd(ctx, &p);
}
inline wpm_status rmsnorm_bwd(wpm_context* ctx, const wpm_buffer* dout, const wpm_buffer* x, const wpm_buffer* weight,
                              wpm_buffer* rstd, wpm_buffer* dx, wpm_buffer* dweight, int64_t n, int64_t c) {
  wpm_rmsnorm_params p{};
  p.struct_size = sizeof p;
  p.n = n, p.c = c;
  p.dout = dout, p.x = x, p.weight = weight, p.rstd = rstd, p.dx = dx, p.dweight = dweight;
  return wpm_rmsnorm_bwd(ctx, &p);
}
// The forward pools in = hidden into out; the backward scatters in = dout into out = dhidden.
inline wpm_status last_token_pool(wpm_context* ctx, bool backward, const wpm_buffer* in, const wpm_buffer* lengths,
                                  wpm_buffer* out, int64_t b, int64_t t, int64_t c, wpm_padding padding) {
  wpm_last_token_pool_params p{};
  p.struct_size = sizeof p;
  p.b = b, p.t = t, p.c = c, p.padding = padding;
  p.lengths = lengths;
  (backward ? p.dout : p.hidden) = in;
  (backward ? p.dhidden : p.out) = out;
  return backward ? wpm_last_token_pool_bwd(ctx, &p) : wpm_last_token_pool_fwd(ctx, &p);
}

// Expects the call to fail with status want and a message that contains each word
// (the argument's name, the bad value): a bad call is reported, never guessed.
inline void expect_error(wpm_status got, wpm_status want, std::initializer_list<const char*> words) {
  EXPECT_EQ(got, want) << wpm_status_name(got) << ": " << wpm_last_error();
  std::string message = wpm_last_error();
  for (const char* word : words) EXPECT_NE(message.find(word), std::string::npos) << message;
}
inline void expect_error(wpm_status got, wpm_status want, const std::string& word) {
  expect_error(got, want, {word.c_str()});
}

// Central finite difference of a scalar function f(x) in float64, per coordinate.
template <class F>
std::vector<double> finite_difference(std::vector<double> x, F&& f, double h = 1e-6) {
  std::vector<double> grad(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double saved = x[i];
    x[i] = saved + h;
    double plus = f(x);
    x[i] = saved - h;
    double minus = f(x);
    x[i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

}  // namespace wpm_test
