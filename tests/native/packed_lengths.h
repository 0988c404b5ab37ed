// The sequence lengths of a packed attention batch (0 allowed) and the offsets that describe it
// (cu_seqlens, FlashAttention's varlen convention), shared by the packed attention tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace wpm_test {

struct PackedLengths {
  std::vector<int32_t> lens;

  int64_t count() const { return int64_t(lens.size()); }
  int64_t total() const { return std::accumulate(lens.begin(), lens.end(), int64_t(0)); }
  int64_t longest() const { return *std::max_element(lens.begin(), lens.end()); }
  // [count + 1]: 0, then the running sums of the lengths.
  std::vector<int32_t> offsets() const {
    std::vector<int32_t> cu(lens.size() + 1, 0);
    for (size_t i = 0; i < lens.size(); ++i) cu[i + 1] = cu[i] + lens[i];
    return cu;
  }
};

}  // namespace wpm_test
