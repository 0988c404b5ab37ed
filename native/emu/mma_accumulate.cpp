// The mma accumulation modes of mma_accumulate.h, and WORLDPM_EMU_MMA parsing.
#include "mma_accumulate.h"

#include <climits>
#include <cmath>
#include <cstdint>

namespace emu {

namespace detail {
namespace {

// v truncated toward zero to 24 significant bits, fp32's precision.
double truncate_to_fp32_precision(double v) {
  if (v == 0 || !std::isfinite(v)) return v;
  int e = 0;
  const double m = std::frexp(v, &e);  // v = m * 2^e, 0.5 <= |m| < 1
  return std::ldexp(std::trunc(std::ldexp(m, 24)), e - 24);
}

// One adder pass: acc + products[0..n), aligned and truncated as mma_accumulate.h describes.
float truncating_pass(float acc, const double* products, int n) {
  double terms[kMmaPassProducts + 1];
  terms[0] = acc;
  for (int i = 0; i < n; ++i) terms[i + 1] = products[i];
  int emax = INT_MIN;
  bool finite = true;
  for (int i = 0; i <= n; ++i) {
    if (!std::isfinite(terms[i])) finite = false;
    if (terms[i] != 0) {
      int e = 0;
      std::frexp(terms[i], &e);
      if (e > emax) emax = e;
    }
  }
  // Infinities, NaN and all-zero passes follow IEEE addition (the sign of a zero sum included).
  if (!finite || emax == INT_MIN) {
    double sum = 0;
    for (int i = 0; i <= n; ++i) sum += terms[i];
    return float(sum);
  }
  // The largest addend lies in [2^(emax-1), 2^emax): its 24-bit significand ends at
  // 2^(emax-24), the adder's last bit at 2^(lsb). Addends become integers in units of
  // 2^lsb, below 2^(24 + kMmaExtraBits + 1) each, so their sum is exact in int64.
  const int lsb = emax - 24 - kMmaExtraBits;
  int64_t sum = 0;
  for (int i = 0; i <= n; ++i) sum += int64_t(std::trunc(std::ldexp(terms[i], -lsb)));
  return float(truncate_to_fp32_precision(std::ldexp(double(sum), lsb)));
}

}  // namespace

float mma_accumulate(MmaAccumulate mode, float c, const double* products) {
  if (mode == MmaAccumulate::exact) {
    double sum = c;
    for (int k = 0; k < kMmaProducts; ++k) sum += products[k];
    return float(sum);
  }
  float acc = c;
  for (int k = 0; k < kMmaProducts; k += kMmaPassProducts) acc = truncating_pass(acc, products + k, kMmaPassProducts);
  return acc;
}

}  // namespace detail

bool parse_mma_accumulate(const std::string& text, Config& c, std::string* error) {
  if (text == "exact") {
    c.mma = MmaAccumulate::exact;
    return true;
  }
  if (text == "truncate") {
    c.mma = MmaAccumulate::truncate;
    return true;
  }
  if (error) *error = "bad value '" + text + "' (expected exact or truncate)";
  return false;
}

}  // namespace emu
