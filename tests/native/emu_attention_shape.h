// The shape of an attention test case and where its valid tokens are, shared by
// the emulated attention forward and backward tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "emu_test_util.h"
#include "kernels.h"
#include "test_util.h"

namespace attention_test {

struct Shape {
  int64_t b, t, h, kvh, d;
  kpadding padding;
  std::vector<int32_t> lengths;  // empty: all t
  float scale = 0.0f;

  int64_t len(int64_t bi) const { return lengths.empty() ? t : lengths[size_t(bi)]; }
  int64_t off(int64_t bi) const { return padding == kpadding::left ? t - len(bi) : 0; }
  bool valid(int64_t bi, int64_t ti) const { return ti >= off(bi) && ti < off(bi) + len(bi); }
  size_t q_count() const { return size_t(b * t * h * d); }
  size_t kv_count() const { return size_t(b * t * kvh * d); }
  size_t lse_count() const { return size_t(b * h * t); }
  double scale_or_default() const { return scale != 0.0f ? scale : 1.0 / std::sqrt(double(d)); }
  std::string label(const emu_test::DtypeCase& c) const {
    std::string s = std::string(wpm_test::dtype_label(c.wpm)) + " b=" + std::to_string(b) + " t=" + std::to_string(t) +
                    " h=" + std::to_string(h) + " kvh=" + std::to_string(kvh) + " d=" + std::to_string(d) +
                    (padding == kpadding::left ? " left" : " right") + " lengths={";
    for (int32_t l : lengths) s += std::to_string(l) + ",";
    return s + "}";
  }
};

}  // namespace attention_test
