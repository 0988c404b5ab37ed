// How the emulated mma.sync m16n8k16 sums one element of D: the accumulator c
// plus the 16 products of a row of A and a column of B, under
// emu::Config::mma (docs/numerics.md, "Tensor-core accumulation").
#pragma once

#include "emu.h"

namespace emu::detail {

// c + sum(products[0..15]). The products are exact (each is the double product
// of two fp16 or bf16 values). exact: summed in double and rounded to float
// once. truncate: the tensor-core model, in passes of kMmaPassProducts
// products; each pass aligns its addends (the running sum and the products) to
// the largest one's exponent in an adder kMmaExtraBits wider than fp32's
// 24-bit significand, drops the bits shifted out below it, adds exactly, and
// truncates the sum to fp32 (toward zero).
float mma_accumulate(MmaAccumulate mode, float c, const double* products);

inline constexpr int kMmaProducts = 16;     // k of m16n8k16
inline constexpr int kMmaPassProducts = 8;  // products per adder pass
inline constexpr int kMmaExtraBits = 3;     // adder bits below the largest addend's 24-bit significand

}  // namespace emu::detail
