#include "bf16_gemm_path.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bf16_dot_rate.h"
#include "cpu_features.h"
#include "onednn_matmul.h"

namespace wpm {

namespace {

// oneDNN's bf16 matmul reaches about the dot-product peak, OpenBLAS sgemm about
// the FMA peak, and the converting path 0.6-0.87 of sgemm at the model's shapes
// (bench/native/gemm_rates.cpp); at 0.9 of fp32's peak oneDNN at least ties.
constexpr double kMinDotPerFma = 0.9;

// Measured once per process: the hardware does not change under us.
double dot_per_fma() {
  static const double ratio = bf16_dot_flops_per_fma_flop();
  return ratio;
}

std::string format(const char* pattern, double value) {
  char text[160];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

}  // namespace

Bf16GemmPath choose_bf16_gemm_path() {
  const std::string convert = "OpenBLAS sgemm on f32 copies";
  const char* onednn = onednn_version();
  const char* forced = std::getenv("WORLDPM_BF16_GEMM");
  if (forced != nullptr && std::strcmp(forced, "convert") == 0) return {false, convert + " (WORLDPM_BF16_GEMM=convert)"};
  if (onednn == nullptr) return {false, convert + " (" + onednn_missing_reason() + ")"};
  const std::string with_onednn = std::string(onednn) + " matmul, fp32 accumulation";
  if (forced != nullptr && std::strcmp(forced, "onednn") == 0) return {true, with_onednn + " (WORLDPM_BF16_GEMM=onednn)"};
  if (onednn_uses_amx()) return {true, with_onednn + " on AMX tiles"};
  if (!cpu_features().avx512bf16) return {false, convert + " (this CPU has no avx512_bf16)"};
  double ratio = dot_per_fma();
  if (ratio >= kMinDotPerFma)
    return {true, with_onednn + format(" (avx512_bf16 dots at %.2fx the fp32 FMA rate here)", ratio)};
  return {false, convert + format(" (avx512_bf16 dots at %.2fx the fp32 FMA rate here: oneDNN would be slower; "
                                  "WORLDPM_BF16_GEMM=onednn forces it)", ratio)};
}

}  // namespace wpm
