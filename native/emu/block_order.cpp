#include "block_order.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace emu {

namespace {
// A full shuffle costs 4 bytes a block; beyond this a seeded affine permutation stands in.
constexpr uint64_t kShuffleMax = uint64_t(1) << 24;
}  // namespace

BlockSequence::BlockSequence(BlockOrder order, uint64_t seed, uint64_t count) : order_(order), count_(count) {
  if (order != BlockOrder::random || count < 2) return;
  std::mt19937_64 rng(seed);
  if (count <= kShuffleMax) {
    shuffled_.resize(count);
    std::iota(shuffled_.begin(), shuffled_.end(), 0u);
    std::shuffle(shuffled_.begin(), shuffled_.end(), rng);
    return;
  }
  stride_ = rng() % count | 1;
  while (std::gcd(stride_, count) != 1) stride_ += 2;
  offset_ = rng() % count;
}

uint64_t BlockSequence::operator[](uint64_t i) const {
  switch (order_) {
    case BlockOrder::forward: return i;
    case BlockOrder::reverse: return count_ - 1 - i;
    case BlockOrder::random:
      if (!shuffled_.empty()) return shuffled_[i];
      // (stride * i + offset) % count without overflow: stride and i are both below count.
      return uint64_t((static_cast<unsigned __int128>(stride_) * i + offset_) % count_);
  }
  return i;
}

}  // namespace emu
