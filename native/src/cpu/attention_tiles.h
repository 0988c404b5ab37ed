// Tile kernels of the CPU attention (see attention_tiles.cpp): rows x n
// score tiles, row-major and tight; all math in f32.
#pragma once

#include <cstdint>

namespace wpm {
namespace attention_tiles {

constexpr float kLog2e = 1.44269504088896341f;

// Online-softmax step for a tile of base-2 scores s: row r sees its first clamp(diag + r, 0, n) keys
// (causal). Updates the running max m and sum l per row and rescales the running output o (rows x d)
// by exp2(m_old - m_new); s becomes P (0 where masked).
void softmax_tile(float* s, int64_t rows, int64_t n, int64_t diag, float* m, float* l, float* o, int64_t d);

// s (base-2 scores) becomes P = exp2(s - lse log2 e) for row r's first min(diag + r, n) keys, 0 after;
// lse is natural-log, one per row. diag >= 1.
void probabilities_tile(float* s, int64_t rows, int64_t n, int64_t diag, const float* lse);

// p becomes dS = P (dP - delta), delta one per row, over row r's first min(diag + r, n) keys; past them P
// is 0 (probabilities_tile) and stays so, and dp is not read (it need not be computed there).
void softmax_grad_tile(float* p, const float* dp, int64_t rows, int64_t n, int64_t diag, const float* delta);

// sum_i x_i y_i, summed in a fixed order.
float dot(const float* x, const float* y, int64_t n);

}  // namespace attention_tiles
}  // namespace wpm
