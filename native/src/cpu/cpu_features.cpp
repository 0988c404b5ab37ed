#include "cpu_features.h"

#include <cstdlib>
#include <string>

namespace wpm {

namespace {

// WORLDPM_CPU_MAX_ISA=avx2 or =baseline hides the newer features from every
// path that checks them (OpenBLAS's core choice included), so the fallbacks
// can be run and tested on a machine that has AVX-512 (oneDNN's
// ONEDNN_MAX_CPU_ISA does the same). Unset or anything else: no cap.
void apply_cap(CpuFeatures& f) {
  const char* cap = std::getenv("WORLDPM_CPU_MAX_ISA");
  if (cap == nullptr) return;
  const std::string isa(cap);
  if (isa == "avx2" || isa == "baseline") f.avx512f = f.avx512dq = f.avx512bf16 = false;
  if (isa == "baseline") f.avx2 = f.fma = false;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    __builtin_cpu_init();
    CpuFeatures f{};
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512dq = __builtin_cpu_supports("avx512dq");
    f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
    apply_cap(f);
    return f;
  }();
  return features;
}

const char* cpu_features_string() {
  static const std::string names = [] {
    const CpuFeatures& f = cpu_features();
    std::string s;
    auto add = [&](bool on, const char* name) {
      if (!on) return;
      if (!s.empty()) s += ' ';
      s += name;
    };
    add(f.avx2, "avx2");
    add(f.fma, "fma");
    add(f.avx512f, "avx512f");
    add(f.avx512dq, "avx512dq");
    add(f.avx512bf16, "avx512bf16");
    return s.empty() ? std::string("portable (no AVX2)") : s;
  }();
  return names.c_str();
}

}  // namespace wpm
