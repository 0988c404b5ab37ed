// The order in which a launch's blocks are started (emu::Config::block_order): the
// pool takes start positions 0, 1, 2, ... from a counter and runs the block this maps
// each one to. Hardware guarantees no order at all, so a kernel whose blocks read what
// other blocks of the same launch write gives different answers under these orders.
#pragma once

#include <cstdint>
#include <vector>

#include "emu.h"

namespace emu {

class BlockSequence {
 public:
  BlockSequence(BlockOrder order, uint64_t seed, uint64_t count);
  // The linear index of the block started at position i (0 <= i < count).
  uint64_t operator[](uint64_t i) const;

 private:
  BlockOrder order_;
  uint64_t count_;
  std::vector<uint32_t> shuffled_;  // BlockOrder::random over grids of up to kShuffleMax blocks
  uint64_t stride_ = 1, offset_ = 0;  // BlockOrder::random over larger grids: (stride * i + offset) % count
};

}  // namespace emu
