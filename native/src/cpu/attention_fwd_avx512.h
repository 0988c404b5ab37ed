// The CPU attention forward's fused step for AVX-512 (attention_fwd_avx512.cpp):
// one key block of at most kFusedKeys keys against one query tile, S = Q K^T,
// the online-softmax update and O += P V in one pass over rows, instead of two
// sgemm calls and a softmax pass over a tile in memory (attention.cpp's
// portable path, which CPUs without AVX-512 take).
#pragma once

#include <cstdint>

namespace wpm {
namespace attention_fwd_avx512 {

constexpr int64_t kFusedKeys = 64;
constexpr int64_t kSumLanes = 16;  // a row's running sum is kept as this many partial sums

// Everything one step reads and updates. Rows are query rows of the tile,
// keys the key block's rows; all row-major f32.
struct Step {
  const float* q;   // rows x d, rows q_stride apart
  const float* kt;  // K^T of the block: d x n, rows kt_stride apart (column j is key j)
  const float* v;   // n x d, rows v_stride apart
  int64_t q_stride, kt_stride, v_stride;
  int64_t rows, n, d;  // n <= kFusedKeys
  int64_t diag;        // row r sees keys 0 .. min(diag + r, n) - 1; diag >= 1, so every row sees one
  float scale;         // applied to Q K^T: the softmax scale times log2(e) (scores in base 2)
  float* o;            // running output, rows x d tight: scaled by exp2(m_old - m_new), P V added
  float* m;            // running max per row (base 2), -inf before the first block
  float* l;            // running sum per row as rows x kSumLanes partial sums, 0 before the first block
};

// True when the CPU (as capped by WORLDPM_CPU_MAX_ISA) runs AVX-512F.
bool available();

// One online-softmax step; call only when available().
void step(const Step& s);

// A row's running sum from its kSumLanes partial sums, added in a fixed order (the same bits every run).
// Keeping them apart until the last block spares every step a horizontal add per row.
float row_sum(const float* partial);

}  // namespace attention_fwd_avx512
}  // namespace wpm
