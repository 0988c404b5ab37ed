// Fused causal attention on the CPU backend, flash-style: forward and backward.
//
// Shapes: q, out, dout, dq [B, T, H, D]; k, v, dk, dv [B, T, KVH, D]; lse f32
// [B, H, T]; query head h reads kv head h / (H / KVH). Sequence b holds
// L = lengths[b] valid rows off .. off + L - 1 (off = 0 for right padding,
// T - L for left padding). Inside a sequence, rows are counted from its
// first valid row, so both paddings are one problem: query i attends keys
// 0..i. Padding rows are never read; their out, lse, dq, dk and dv are 0.
// A packed batch (cu_seqlens) is the same problem with other addresses:
// [T, H, D] tensors, lse [H, T], and sequence b's slot (the rows it may
// occupy) is its own rows cu_seqlens[b] .. cu_seqlens[b + 1] - 1, with no
// padding; the tiles, work items and copies are per sequence either way, so
// a packed batch costs its real tokens only (Layout).
//
// Inputs first become what the tile loops read without copying (F32Tensor):
// f32 tensors are used in place, f16/bf16 ones as f32 copies (all math is
// f32), and K also as a copy transposed per head, [B, KVH, D, T], so that
// S = Q K^T is an NN sgemm (NT ran at 100 GFLOP/s against 160 for NN with
// OpenBLAS's Cooperlake kernels). The fused forward instead copies one kv
// head's K^T in 64-key blocks and V rows into each worker's own memory per
// work item (ForwardInputs says why), and the backward does the same with
// K^T, V^T, K, and one query head's Q and dO at a time (BackwardCopy). Extra
// memory is linear in T: those copies and a few tiles per thread, kept in the
// backend's workspace between calls.
//
// Tiles: kBlockQ = 64 query rows by Bk key rows, Bk = 64 for D = 64, 32 for
// D = 128 (kBlockQ * Bk * D <= 64^3). Every product of two tiles is one GEMM
// of that size or smaller on the calling thread (larger ones called from both
// pool threads at once fought over OpenBLAS's own threads and ran 2-3x
// slower): the register block's unpacked GEMM where the CPU has AVX2 or
// AVX-512 (register_block.h; the tiles are in L1/L2 already, and packing
// them was most of what OpenBLAS spent on a 64^3 product), else OpenBLAS.
// The per-element work (exp2, running max, dS) is in attention_tiles.cpp.
//
// Forward, per (b, h, query block), over the key blocks up to the diagonal
// (later ones are fully masked and skipped): S = scale log2(e) Q K^T, so the
// softmax runs in base 2; per row a running max m and sum l (online softmax);
// O = corr O + P V with corr = exp2(m_old - m_new). At the end out = O / l
// and lse = ln 2 (m + log2 l). Nothing T x T. Where the CPU has AVX-512 one
// fused step per key block does all of that in registers
// (attention_fwd_avx512.cpp, 64-key blocks); elsewhere two sgemms and
// softmax_tile per tile. Work items are claimed one at a time by whichever
// thread is free (ThreadPool::parallel_items). Sgemm path: one item per
// (b, h, query block), a head's blocks from the last (longest rows) to the
// first, so the last items are short ones. Fused path: one item per (b, kv
// head), all of equal work (every head has the same causal triangle), which
// copies the head's keys once and runs the group's query heads' blocks, the
// longest first; when B * KVH < 2 threads, a head's query blocks are split
// into parts of equal work (query_part), each copying the keys it needs.
//
// Backward, per (b, kv head, segment
// of key blocks): for each query head of the group in order, for each key
// block, for each query block at or after the key block (delta_i = rowsum(dO_i
// * O_i) made per query head first): P = exp2(S - lse
// log2 e), dV += P^T dO, dP = dO V^T, dS = P (dP - delta), dK += scale dS^T Q,
// dQ += scale dS K (the first term of each sum written, not added to zeros).
// A key block's dK and dV belong to one work item, and dQ of
// a segment goes to that segment's own f32 copy, summed over segments in
// order at the end: no atomics, the same bits on every run. Segments exist
// only to give every thread work when B * KVH is small (count = ceil(2 threads
// / (B KVH)), usually 1, and then f32 dQ is written in place); they split
// the key blocks by equal work, since block j is attended by L - j Bk queries.
//
// Cost: 2 B H T^2 D FLOPs for the causal forward (QK^T and PV over the
// unmasked half), 2.5x that for the backward. The fused step's two FMA loops
// run at the large-sgemm rate; what the forward spends above them is the
// softmax (row max, exp2), the per-item K^T/V copies and writing out. The
// backward's five tile products are most of its time; what it spends beside
// them is the probabilities, dS and the per-item copies.
// bench/RESULTS.md has the runs, the profiles and what each step bought.

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "../error.h"
#include "attention_fwd_avx512.h"
#include "attention_tiles.h"
#include "blas.h"
#include "convert.h"
#include "cpu_backend.h"
#include "cpu_features.h"
#include "register_block.h"
#include "transpose_avx512.h"

namespace wpm {

namespace {

using namespace attention_tiles;

constexpr int64_t kBlockQ = 64;
constexpr float kLn2 = 0.693147180559945309f;

// Key rows per tile: the largest power of two in 16..128 with kBlockQ * Bk * D
// at most 64^3, OpenBLAS's single-thread limit (m * n * k <= 4 * 65536).
int64_t key_block(int64_t d) {
  int64_t bk = 128;
  while (bk > 16 && kBlockQ * bk * d > 262144) bk /= 2;
  return bk;
}

// C (m x n, row stride ldc) = alpha op(A) B + beta C with op(A) = A or A^T (m x k), B k x n.
void tile_gemm(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  static const bool unpacked = register_block::vectorized();
  if (unpacked) register_block::unpacked_sgemm(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else sgemm(trans_a, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// The products of a tile that the causal mask cuts (diag < n: row r of the tile, query i0 + r, sees keys
// j0 .. j0 + diag + r - 1 only). There dS and P are 0 past each row's keys, so the part of each sum over
// them adds nothing, and the register block skips it: in dQ += dS K (kQueryRows: C's rows are queries,
// the sum runs over keys) each block of rows stops at the last key its rows see; in dV += P^T dO and
// dK += dS^T Q (kKeyRows: C's rows are keys, the sum runs over queries) each block of rows starts at the
// first query that sees its first key. On a diagonal tile that halves those three products. Bits: the
// skipped terms are fma(0, x, acc) with acc a sum of the terms before; skipped at the start they leave acc
// at +0, at the end they could only turn a -0 into +0. In S = Q K^T and dP = dO V^T (kScoreColumns: C's
// rows are queries, its columns keys) each block of rows computes only the columns of keys its rows see,
// rounded up to 16: the others are masked, never read (probabilities_tile, softmax_grad_tile), and left
// unwritten.
enum class CausalSum { kQueryRows, kKeyRows, kScoreColumns };

void causal_tile_gemm(CausalSum sum, int64_t diag, bool trans_a, int64_t m, int64_t n, int64_t k, float alpha,
                      const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                      int64_t ldc) {
  static const bool unpacked = register_block::vectorized();
  if (!unpacked) return sgemm(trans_a, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  const register_block::Kernel run = register_block::kernel();
  const int64_t a_row = trans_a ? 1 : lda, a_k = trans_a ? lda : 1, kRows = register_block::kRows;
  for (int64_t j0 = 0; j0 < n; j0 += register_block::kCols)
    for (int64_t i0 = 0; i0 < m; i0 += kRows) {
      const int64_t rows = std::min(kRows, m - i0);
      int64_t cols = std::min(register_block::kCols, n - j0);
      if (sum == CausalSum::kScoreColumns) {
        const int64_t seen = diag + i0 + rows - 1 - j0;  // rounded up to whole zmm: plain loads, no masks
        if (seen <= 0) continue;
        cols = std::min(cols, (seen + 15) / 16 * 16);
      }
      // kQueryRows: keys < diag + the block's last row; kKeyRows: queries >= the block's first key - diag + 1.
      const int64_t k0 = sum == CausalSum::kKeyRows ? std::clamp<int64_t>(i0 + 1 - diag, 0, k) : 0;
      const int64_t k1 = sum == CausalSum::kQueryRows ? std::min(k, diag + i0 + rows - 1) : k;
      if (k1 <= k0) {  // an empty sum (not met by the attention's tiles, where every key has a query)
        if (beta == 0.0f)
          for (int64_t r = 0; r < rows; ++r) std::fill_n(c + (i0 + r) * ldc + j0, cols, 0.0f);
        continue;
      }
      run({a + i0 * a_row + k0 * a_k, a_row, a_k, b + k0 * ldb + j0, ldb, k1 - k0, alpha, beta, c + i0 * ldc + j0,
           ldc, rows, cols});
    }
}

// ---------------------------------------------------------------- geometry
int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }

struct Sequence {
  int64_t off, len;  // valid rows off .. off + len - 1
  bool padding(int64_t t) const { return t < off || t >= off + len; }
};

// Where the sequences lie. Rows are token rows of the q, k, v tensors (B * T of them padded, T packed);
// sequence b owns the slot of span(b) rows from row slot(b) (padded: its T rows; packed: its own tokens),
// and its valid rows are sequence(b), counted from the slot's first row.
struct Layout {
  const AttentionArgs& a;
  int64_t group;  // query heads per kv head
  int64_t bk;     // key rows per tile
  explicit Layout(const AttentionArgs& args) : a(args), group(args.h / args.kvh), bk(key_block(args.d)) {}

  bool packed() const { return a.cu_seqlens != nullptr; }
  int64_t rows() const { return packed() ? a.t : a.b * a.t; }
  int64_t slot(int64_t b) const { return packed() ? a.cu_seqlens[b] : b * a.t; }
  int64_t span(int64_t b) const { return packed() ? a.cu_seqlens[b + 1] - a.cu_seqlens[b] : a.t; }
  int64_t max_span() const { return packed() ? a.max_seqlen : a.t; }
  Sequence sequence(int64_t b) const {
    if (packed()) return {0, span(b)};
    int64_t len = a.lengths[b];
    return {a.padding == WPM_PAD_LEFT ? a.t - len : 0, len};
  }
  bool padding_row(int64_t row) const { return !packed() && sequence(row / a.t).padding(row % a.t); }
  // Element offsets of head h of a row in [rows, H, D] / [rows, KVH, D], and in lse ([B, H, T] padded,
  // [H, T] packed).
  int64_t q_of_row(int64_t row, int64_t h) const { return (row * a.h + h) * a.d; }
  int64_t kv_of_row(int64_t row, int64_t g) const { return (row * a.kvh + g) * a.d; }
  int64_t lse_of_row(int64_t row, int64_t h) const {
    return packed() ? h * a.t + row : (row / a.t * a.h + h) * a.t + row % a.t;
  }
  // The same for row t of sequence b's slot.
  int64_t q_row(int64_t b, int64_t t, int64_t h) const { return q_of_row(slot(b) + t, h); }
  int64_t kv_row(int64_t b, int64_t t, int64_t g) const { return kv_of_row(slot(b) + t, g); }
  int64_t lse_at(int64_t b, int64_t h, int64_t t) const { return lse_of_row(slot(b) + t, h); }
  // The copies of K^T (and V^T) made per kv head (F32Tensor::transpose): [KVH, D, span] per slot, slots in
  // row order ([B, KVH, D, T] padded), so row c of sequence b's kv head g is span(b) floats long. Key j
  // (slot-relative, not a row) of that head's first row.
  int64_t transposed_at(int64_t b, int64_t g, int64_t j) const {
    return (slot(b) * a.kvh + g * span(b)) * a.d + j;
  }
  // Blocks of block keys that cover the longest slot (the fused forward's per-worker copies).
  int64_t key_blocks(int64_t block) const { return ceil_div(max_span(), block); }
  int64_t q_stride() const { return a.h * a.d; }
  int64_t kv_stride() const { return a.kvh * a.d; }
};

// The sequences, longest first: work items are claimed in this order, so that the last ones claimed are short
// and no thread is left with a long sequence while the others wait (a packed batch mixes lengths freely).
std::vector<int64_t> longest_first(const Layout& lay) {
  std::vector<int64_t> order(size_t(lay.a.b));
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return lay.sequence(x).len > lay.sequence(y).len; });
  return order;
}

// Asks for the cache lines of rows rows of bytes bytes each, stride bytes apart, ahead of their use.
// The forward reads its inputs and writes out in runs of D floats KVH x D or H x D floats apart, which the
// hardware prefetchers do not follow; without this every run waited for memory in turn.
void prefetch_rows(const void* p, int64_t rows, int64_t bytes, int64_t stride, bool write = false) {
  const char* c = static_cast<const char*>(p);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < bytes; i += 64) {
      if (write) __builtin_prefetch(c + r * stride + i, 1, 3);
      else __builtin_prefetch(c + r * stride + i, 0, 3);
    }
}

// The copies below read rows a few hundred bytes long, 2 KiB or more apart, which the hardware prefetchers
// did not keep ahead of: each row asks for the one kRowsAhead rows on. (Asking for the next 16 rows every
// 16 rows, as the copies first did, left the backward's copies of Q and dO waiting for memory at about
// 4 GB/s: 16 rows take a few hundred cycles to copy from cache, less than memory takes to answer.)
constexpr int64_t kRowsAhead = 32;

// Keys first .. keys - 1 of kv head g of sequence b (x [B, T, KVH, D]) -> K^T in blocks of block keys, the
// layout of one head of Layout::transposed_at, at head (key first at column 0 of the first block).
// strip: 16 x D floats of scratch; rows, if given, also receives the keys as rows (keys - first) x D,
// contiguous (the backward needs both; the widened rows then serve as the strip).
template <class T>
void transpose_head(const Layout& lay, const void* x, int64_t b, int64_t g, int64_t first, int64_t keys,
                    int64_t block, float* head, float* strip, float* rows_out = nullptr) {
  const int64_t d = lay.a.d;
  const bool avx512 = cpu_features().avx512f;
  Sequence seq = lay.sequence(b);
  // 16 rows at a time through a local strip: the reads are whole contiguous rows (widened at once),
  // and each column's 16 values fill one cache line of the copy. Element by element straight from
  // x to the copy took 11% of the forward: both sides are 2 KiB-strided (T and KVH * D floats) and
  // fought over the same few L1 sets. block is a multiple of 16 or T, and first a multiple of block, so a
  // strip never straddles two blocks. Whole 16 x 16 blocks of a strip go through zmm registers where the
  // CPU allows.
  for (int64_t j0 = first; j0 < keys; j0 += 16) {
    const int64_t rows = std::min<int64_t>(16, keys - j0), rel = j0 - first;
    if (j0 == first)
      prefetch_rows(static_cast<const T*>(x) + lay.kv_row(b, seq.off + j0, g), std::min(kRowsAhead, keys - j0),
                    d * sizeof(T), lay.kv_stride() * sizeof(T));
    float* src = rows_out ? rows_out + rel * d : strip;
    for (int64_t i = 0; i < rows; ++i) {
      if (j0 + i + kRowsAhead < keys)
        prefetch_rows(static_cast<const T*>(x) + lay.kv_row(b, seq.off + j0 + i + kRowsAhead, g), 1, d * sizeof(T), 0);
      widen(static_cast<const T*>(x) + lay.kv_row(b, seq.off + j0 + i, g), src + i * d, d);
    }
    float* dst = head + rel / block * d * block + rel % block;
    int64_t c = 0;
    if (avx512 && rows == 16)
      for (; c + 16 <= d; c += 16) transpose16_avx512(src + c, d, dst + c * block, block);
    for (; c < d; ++c)
      for (int64_t i = 0; i < rows; ++i) dst[c * block + i] = src[i * d + c];
  }
}

// count rows of d elements, stride elements apart from first -> f32 rows count x d, contiguous, at dst.
template <class T>
void pack_rows(const T* first, int64_t stride, int64_t count, int64_t d, float* dst) {
  prefetch_rows(first, std::min(kRowsAhead, count), d * sizeof(T), stride * sizeof(T));
  for (int64_t j = 0; j < count; ++j) {
    if (j + kRowsAhead < count) prefetch_rows(first + (j + kRowsAhead) * stride, 1, d * sizeof(T), 0);
    widen(first + j * stride, dst + j * d, d);
  }
}

// Keys 0 .. keys - 1 of kv head g of sequence b (x [B, T, KVH, D]) -> rows keys x D, contiguous, at dst.
template <class T>
void pack_head(const Layout& lay, const void* x, int64_t b, int64_t g, int64_t keys, float* dst) {
  pack_rows(static_cast<const T*>(x) + lay.kv_row(b, lay.sequence(b).off, g), lay.kv_stride(), keys, lay.a.d, dst);
}

// ---------------------------------------------------------------- f32 inputs
// What the tile loops read, made once per call so that no tile is copied or
// converted: f32 inputs are used in place, f16/bf16 ones become f32 copies in
// their own layout; K (and V in the backward) also get a copy transposed per
// head, [B, KVH, D, T], so that S = Q K^T and dP = dO V^T are NN sgemms (the
// fused forward's copies: ForwardInputs). Copies live in the backend's
// workspace (workspace.h), reused from call to call.
class F32Tensor {
 public:
  const float* data() const { return data_; }

  // x [B, T, heads, D]; only the valid rows are converted (padding is never read).
  template <class T>
  static F32Tensor convert(ThreadPool& pool, Workspace::Lease& memory, const Layout& lay, const void* x,
                           int64_t heads) {
    F32Tensor out;
    if constexpr (std::is_same_v<T, float>) {
      out.data_ = static_cast<const float*>(x);
    } else {
      const int64_t width = heads * lay.a.d;
      float* dst = memory.floats(size_t(lay.rows() * width));
      pool.parallel_for(lay.rows(), 16, [&](int64_t begin, int64_t end, int) {
        for (int64_t row = begin; row < end; ++row) {
          if (lay.padding_row(row)) continue;
          widen(static_cast<const T*>(x) + row * width, dst + row * width, width);
        }
      });
      out.data_ = dst;
    }
    return out;
  }

  // x [rows, KVH, D] -> K^T per sequence and kv head (Layout::transposed_at), valid rows only.
  template <class T>
  static F32Tensor transpose(ThreadPool& pool, Workspace::Lease& memory, const Layout& lay, const void* x) {
    const AttentionArgs& a = lay.a;
    F32Tensor out;
    float* dst = memory.floats(size_t(lay.rows() * a.kvh * a.d));
    float* strips = memory.floats(size_t(pool.size() * 16 * a.d));
    pool.parallel_items(a.b * a.kvh, [&](int64_t bg, int worker) {
      int64_t b = bg / a.kvh, g = bg % a.kvh;
      transpose_head<T>(lay, x, b, g, 0, lay.sequence(b).len, lay.span(b), dst + lay.transposed_at(b, g, 0),
                        strips + worker * 16 * a.d);
    });
    out.data_ = dst;
    return out;
  }

 private:
  const float* data_ = nullptr;
};

// Per-thread tile memory, carved from one workspace buffer taken before the parallel loop.
class Arena {
 public:
  Arena(Workspace::Lease& memory, int workers, int64_t floats_per_worker)
      : per_worker_(floats_per_worker), memory_(memory.floats(size_t(workers) * size_t(floats_per_worker))) {}
  float* worker(int w) const { return memory_ + int64_t(w) * per_worker_; }

 private:
  int64_t per_worker_;
  float* memory_;
};

template <class T>
void zero_row(T* dst, int64_t d) {
  for (int64_t c = 0; c < d; ++c) store(dst, c, 0.0f);
}

// rows x d tight f32 into rows stride elements apart. Each row asks for the one kRowsAhead on: a row of an
// output not in cache is read from memory before it is written, and with rows 2 KiB apart the backward's
// dK and dV stores otherwise waited for those reads one after another.
template <class T>
void store_rows(const float* src, int64_t rows, int64_t d, T* dst, int64_t stride) {
  for (int64_t r = 0; r < rows; ++r) {
    if (r + kRowsAhead < rows) prefetch_rows(dst + (r + kRowsAhead) * stride, 1, d * sizeof(T), 0, true);
    narrow(src + r * d, dst + r * stride, d);
  }
}

// ---------------------------------------------------------------- forward
// K^T and V of one key block: d x n and n x d, rows the given strides apart.
struct KeyBlock {
  const float* kt;
  int64_t kt_stride;
  const float* v;
  int64_t v_stride;
};

// What the forward's tiles read. The sgemm path reads K^T per slot (F32Tensor::transpose) and V in
// place. The fused (AVX-512) path copies, per work item, one kv head's keys into the worker's own memory
// (HeadCopy): K^T in blocks of its own key count and V packed, so that each key block's operands are two
// contiguous runs (with rows 2 KiB apart, T or KVH * D floats, a block's 256 cache lines sat in 8 of L1's
// 64 sets and were fetched from L2 for every 6 query rows), written into memory that stays in L2 from
// item to item. Copying all heads up front instead, into [B, KVH, ...] tensors, took 15% of the forward:
// 4 MiB written and read back per copy, past L2.
struct ForwardInputs {
  bool fused;
  int64_t bk;  // keys per block
  F32Tensor q, kt, v;  // kt, v: sgemm path only

  template <class T>
  static ForwardInputs make(ThreadPool& pool, Workspace::Lease& memory, const Layout& lay, bool fused) {
    const AttentionArgs& a = lay.a;
    F32Tensor q = F32Tensor::convert<T>(pool, memory, lay, a.q, a.h);
    if (fused) return {true, attention_fwd_avx512::kFusedKeys, q, {}, {}};
    return {false, lay.bk, q, F32Tensor::transpose<T>(pool, memory, lay, a.k),
            F32Tensor::convert<T>(pool, memory, lay, a.v, a.kvh)};
  }

  // The sgemm path's key block of kv head g of sequence b that starts at sequence-relative key j0.
  KeyBlock key_block(const Layout& lay, int64_t b, int64_t g, int64_t j0) const {
    return {kt.data() + lay.transposed_at(b, g, j0), lay.span(b),
            v.data() + lay.kv_row(b, lay.sequence(b).off + j0, g), lay.kv_stride()};
  }
};

// The fused path's copy of the first keys keys of one kv head, in a worker's memory: K^T in blocks of
// kFusedKeys keys (d x kFusedKeys each) and V rows, keys x d.
struct HeadCopy {
  float *kt, *v, *strip;
  static int64_t padded(const Layout& lay) { return lay.key_blocks(attention_fwd_avx512::kFusedKeys) * attention_fwd_avx512::kFusedKeys; }
  static int64_t floats(const Layout& lay) { return (2 * padded(lay) + 16) * lay.a.d; }
  HeadCopy(float* p, const Layout& lay) : kt(p), v(kt + padded(lay) * lay.a.d), strip(v + padded(lay) * lay.a.d) {}

  template <class T>
  void fill(const Layout& lay, int64_t b, int64_t g, int64_t keys) const {
    transpose_head<T>(lay, lay.a.k, b, g, 0, keys, attention_fwd_avx512::kFusedKeys, kt, strip);
    pack_head<T>(lay, lay.a.v, b, g, keys, v);
  }
  KeyBlock key_block(int64_t d, int64_t j0) const {
    return {kt + j0 * d, attention_fwd_avx512::kFusedKeys, v + j0 * d, d};
  }
};

// l holds one sum per row (sgemm path) or kSumLanes partial sums per row (fused path).
struct ForwardTiles {
  float *s, *o, *m, *l;
  static int64_t floats(int64_t d, int64_t bk) { return kBlockQ * (bk + d + 1 + attention_fwd_avx512::kSumLanes); }
  ForwardTiles(float* p, int64_t d, int64_t bk) : s(p), o(s + kBlockQ * bk), m(o + kBlockQ * d), l(m + kBlockQ) {}
};


// Query block qb of head h of sequence b: valid rows i0 .. i1-1 (sequence-relative), and the padding rows
// among absolute rows qb * kBlockQ .. + kBlockQ - 1 (so the blocks of a head cover every row once).
// keys(j0): the KeyBlock of the head's kv head starting at sequence-relative key j0.
template <class T, class Keys>
void forward_block(const Layout& lay, const ForwardInputs& in, const Keys& keys, int64_t b, int64_t h,
                   int64_t qb, const ForwardTiles& w) {
  const AttentionArgs& a = lay.a;
  const int64_t d = a.d;
  Sequence seq = lay.sequence(b);
  T* out = static_cast<T*>(a.out);
  for (int64_t t = qb * kBlockQ; t < std::min(lay.span(b), (qb + 1) * kBlockQ); ++t) {
    if (!seq.padding(t)) continue;
    zero_row(out + lay.q_row(b, t, h), d);
    a.lse[lay.lse_at(b, h, t)] = 0.0f;
  }
  int64_t i0 = qb * kBlockQ, i1 = std::min(i0 + kBlockQ, seq.len);
  if (i0 >= i1) return;
  int64_t rows = i1 - i0;
  const float* q = in.q.data() + lay.q_row(b, seq.off + i0, h);
  prefetch_rows(q, rows, d * 4, lay.q_stride() * 4);
  prefetch_rows(out + lay.q_row(b, seq.off + i0, h), rows, d * sizeof(T), lay.q_stride() * sizeof(T), true);
  std::fill(w.o, w.o + rows * d, 0.0f);
  std::fill(w.m, w.m + rows, -std::numeric_limits<float>::infinity());
  std::fill(w.l, w.l + rows * attention_fwd_avx512::kSumLanes, 0.0f);
  for (int64_t j0 = 0; j0 < i1; j0 += in.bk) {
    int64_t n = std::min(in.bk, i1 - j0);
    KeyBlock kv = keys(j0);
    if (in.fused) {
      attention_fwd_avx512::step({q, kv.kt, kv.v, lay.q_stride(), kv.kt_stride, kv.v_stride, rows, n, d,
                                  i0 - j0 + 1, a.scale * kLog2e, w.o, w.m, w.l});
      continue;
    }
    tile_gemm(false, rows, n, d, a.scale * kLog2e, q, lay.q_stride(), kv.kt, kv.kt_stride, 0.0f, w.s, n);  // S
    softmax_tile(w.s, rows, n, i0 - j0 + 1, w.m, w.l, w.o, d);  // S becomes P; O rescaled
    tile_gemm(false, rows, d, n, 1.0f, w.s, n, kv.v, kv.v_stride, 1.0f, w.o, d);  // O += P V
  }
  for (int64_t r = 0; r < rows; ++r) {
    float l = in.fused ? attention_fwd_avx512::row_sum(w.l + r * attention_fwd_avx512::kSumLanes) : w.l[r];
    float inv = 1.0f / l;
    for (int64_t c = 0; c < d; ++c) w.o[r * d + c] *= inv;
    a.lse[lay.lse_at(b, h, seq.off + i0 + r)] = (w.m[r] + std::log2(l)) * kLn2;
  }
  store_rows(w.o, rows, d, out + lay.q_row(b, seq.off + i0, h), lay.q_stride());
}

// Query blocks [*begin, *end) of part p of count of a head's blocks: contiguous runs of about equal work
// (block qb sees qb + 1 key blocks). Parts exist only to give every thread work when B * KVH is small.
void query_part(int64_t blocks, int64_t count, int64_t p, int64_t* begin, int64_t* end) {
  auto boundary = [&](int64_t part) {
    int64_t qb = 0;
    while (qb < blocks && qb * (qb + 1) * count < blocks * (blocks + 1) * part) ++qb;
    return qb;
  };
  *begin = boundary(p);
  *end = boundary(p + 1);
}

template <class T>
void attention_forward(ThreadPool& pool, Workspace& workspace, const AttentionArgs& a) {
  Layout lay(a);
  Workspace::Lease memory = workspace.lease();
  const ForwardInputs in = ForwardInputs::make<T>(pool, memory, lay, attention_fwd_avx512::available());
  int64_t blocks = ceil_div(lay.max_span(), kBlockQ);
  const int64_t tiles = ForwardTiles::floats(a.d, lay.bk);
  const std::vector<int64_t> order = longest_first(lay);
  if (!in.fused) {
    Arena arena(memory, pool.size(), tiles);
    pool.parallel_items(a.b * a.h * blocks, [&](int64_t item, int worker) {
      int64_t bh = item / blocks, b = order[size_t(bh / a.h)], h = bh % a.h;
      auto keys = [&](int64_t j0) { return in.key_block(lay, b, h / lay.group, j0); };
      forward_block<T>(lay, in, keys, b, h, blocks - 1 - item % blocks,  // longest rows first
                       ForwardTiles(arena.worker(worker), a.d, lay.bk));
    });
    return;
  }
  // One item per kv head and part: the worker copies the head's keys once, for all its query heads.
  const int64_t parts = std::clamp<int64_t>(ceil_div(2 * int64_t(pool.size()), a.b * a.kvh), 1, blocks);
  Arena arena(memory, pool.size(), tiles + HeadCopy::floats(lay));
  pool.parallel_items(a.b * a.kvh * parts, [&](int64_t item, int worker) {
    int64_t bg = item / parts, b = order[size_t(bg / a.kvh)], g = bg % a.kvh, qb0, qb1;
    query_part(ceil_div(lay.span(b), kBlockQ), parts, item % parts, &qb0, &qb1);
    if (qb0 == qb1) return;
    ForwardTiles w(arena.worker(worker), a.d, lay.bk);
    HeadCopy copy(arena.worker(worker) + tiles, lay);
    copy.fill<T>(lay, b, g, std::min(lay.sequence(b).len, qb1 * kBlockQ));
    auto keys = [&](int64_t j0) { return copy.key_block(a.d, j0); };
    for (int64_t h = g * lay.group; h < (g + 1) * lay.group; ++h)
      for (int64_t qb = qb1 - 1; qb >= qb0; --qb) forward_block<T>(lay, in, keys, b, h, qb, w);
  });
}

// ---------------------------------------------------------------- backward
// A work item's copies and tiles, in its worker's memory. Every operand a tile product reads as B (rows of
// 64 floats, one after the other, for each 6 rows of the result) is contiguous here: K^T and V^T in blocks
// of bk keys, K, Q and dO as rows of D. Read in place, K, Q and dO rows are KVH * D or H * D floats (2 KiB
// at W2's shape) apart, so a 64-row tile sat in 8 of L1's 64 sets and was fetched from L2 again for every 6
// rows of the product (the forward's HeadCopy met the same). The copies are made per item, not per call:
// written into memory that stays in L2, not 4 MiB tensors written out and read back. dk, dv: the item's
// key blocks' f32 gradients, summed over the group's query heads; dq, delta: one query head's dQ rows and
// deltas (rowsum(dO * O), made while dO is copied, so that dO is read from memory once).
struct BackwardCopy {
  float *kt, *vt, *k, *dk, *dv, *q, *dout, *dq, *delta, *p, *dp, *strip;
  static int64_t keys(const Layout& lay) { return lay.key_blocks(lay.bk) * lay.bk; }
  static int64_t floats(const Layout& lay) {
    return (5 * keys(lay) + 3 * lay.max_span() + 16) * lay.a.d + lay.max_span() + 2 * kBlockQ * lay.bk;
  }
  BackwardCopy(float* mem, const Layout& lay) {
    const int64_t kd = keys(lay) * lay.a.d, qd = lay.max_span() * lay.a.d;
    kt = mem, vt = kt + kd, k = vt + kd, dk = k + kd, dv = dk + kd;
    q = dv + kd, dout = q + qd, dq = dout + qd, p = dq + qd, dp = p + kBlockQ * lay.bk;
    strip = dp + kBlockQ * lay.bk, delta = strip + 16 * lay.a.d;
  }
};

// How many segments to split each (b, kv head)'s key blocks into: enough work items for every thread.
int64_t segment_count(int threads, const AttentionArgs& a, int64_t bk) {
  if (threads <= 1) return 1;
  int64_t groups = a.b * a.kvh;
  return std::clamp<int64_t>(ceil_div(2 * int64_t(threads), groups), 1, ceil_div(Layout(a).max_span(), bk));
}

// Key blocks [*begin, *end) of segment s of count for a sequence of len rows: contiguous runs of about
// equal work (block j is attended by the len - j bk queries at or after its first key). May be empty.
void segment_range(int64_t len, int64_t bk, int64_t count, int64_t s, int64_t* begin, int64_t* end) {
  int64_t blocks = ceil_div(len, bk);
  double total = 0;
  for (int64_t j = 0; j < blocks; ++j) total += double(len - j * bk);
  auto boundary = [&](int64_t segment) {
    if (segment >= count) return blocks;
    double target = total * double(segment) / double(count), before = 0;
    int64_t j = 0;
    for (; j < blocks && before < target; ++j) before += double(len - j * bk);
    return j;
  };
  *begin = boundary(s);
  *end = boundary(s + 1);
}

// Rows first .. len - 1 of query head h of sequence b: dO into w.dout (rows of D) and delta = rowsum(dO * O)
// into w.delta, both from row first on.
template <class T>
void pack_dout(const Layout& lay, int64_t b, int64_t h, int64_t first, const BackwardCopy& w) {
  const AttentionArgs& a = lay.a;
  const int64_t d = a.d, count = lay.sequence(b).len - first, stride = lay.q_stride();
  const T* dout = static_cast<const T*>(a.dout) + lay.q_row(b, lay.sequence(b).off + first, h);
  const T* out = static_cast<const T*>(a.out) + lay.q_row(b, lay.sequence(b).off + first, h);
  prefetch_rows(dout, std::min(kRowsAhead, count), d * sizeof(T), stride * sizeof(T));
  prefetch_rows(out, std::min(kRowsAhead, count), d * sizeof(T), stride * sizeof(T));
  for (int64_t i = 0; i < count; ++i) {
    if (i + kRowsAhead < count) {
      prefetch_rows(dout + (i + kRowsAhead) * stride, 1, d * sizeof(T), 0);
      prefetch_rows(out + (i + kRowsAhead) * stride, 1, d * sizeof(T), 0);
    }
    widen(dout + i * stride, w.dout + i * d, d);
    widen(out + i * stride, w.strip, d);
    w.delta[i] = dot(w.strip, w.dout + i * d, d);
  }
}

// dK and dV of kv head g of sequence b for the key blocks of segment seg, and that segment's share of dQ
// for the group's query heads (written into dq_part, f32 with dq's layout). Loops: query head, key block,
// query block; each sum still runs in the order it always did (dK, dV of a key block: heads, then query
// blocks, ascending; dQ of a query block: key blocks ascending), and its first term is written (beta 0),
// not added to zeros, so nothing is zeroed beforehand but the dQ rows the segment's keys never reach.
template <class T>
void backward_segment(const Layout& lay, int64_t b, int64_t g, int64_t seg, int64_t segments, float* dq_part,
                      const BackwardCopy& w) {
  const AttentionArgs& a = lay.a;
  const int64_t d = a.d, bk = lay.bk, h0 = g * lay.group;
  Sequence seq = lay.sequence(b);
  int64_t kb0, kb1;
  segment_range(seq.len, bk, segments, seg, &kb0, &kb1);
  // The segment's first key, and the first query row that sees any of its keys.
  const int64_t first = std::min(kb0 * bk, seq.len), last = std::min(kb1 * bk, seq.len);
  const int64_t untouched = kb0 == kb1 ? seq.len : first;
  for (int64_t h = h0; h < h0 + lay.group; ++h)
    for (int64_t i = 0; i < untouched; ++i) std::fill_n(dq_part + lay.q_row(b, seq.off + i, h), d, 0.0f);
  if (kb0 == kb1) return;
  transpose_head<T>(lay, a.k, b, g, first, last, bk, w.kt, w.strip, w.k);
  transpose_head<T>(lay, a.v, b, g, first, last, bk, w.vt, w.strip);
  for (int64_t h = h0; h < h0 + lay.group; ++h) {
    pack_rows(static_cast<const T*>(a.q) + lay.q_row(b, seq.off + first, h), lay.q_stride(), seq.len - first, d,
              w.q);
    pack_dout<T>(lay, b, h, first, w);
    for (int64_t kb = kb0; kb < kb1; ++kb) {
      const int64_t j0 = kb * bk, n = std::min(bk, seq.len - j0), at = (j0 - first) * d;
      const float *kt = w.kt + at, *vt = w.vt + at, *k = w.k + at;  // K^T, V^T: d x n, rows bk apart
      float *dk = w.dk + at, *dv = w.dv + at;
      for (int64_t i0 = j0; i0 < seq.len; i0 += kBlockQ) {  // earlier queries see none of these keys
        const int64_t rows = std::min(kBlockQ, seq.len - i0), li = lay.lse_at(b, h, seq.off + i0);
        const float *q = w.q + (i0 - first) * d, *dout = w.dout + (i0 - first) * d;
        const float* delta = w.delta + (i0 - first);
        float* dq = w.dq + (i0 - first) * d;
        const float kv_beta = h == h0 && i0 == j0 ? 0.0f : 1.0f, q_beta = kb == kb0 ? 0.0f : 1.0f;
        const int64_t diag = i0 - j0 + 1;  // row r sees keys j0 .. j0 + diag + r - 1 (causal_tile_gemm)
        if (diag >= n) tile_gemm(false, rows, n, d, a.scale * kLog2e, q, d, kt, bk, 0.0f, w.p, n);  // S
        else causal_tile_gemm(CausalSum::kScoreColumns, diag, false, rows, n, d, a.scale * kLog2e, q, d, kt, bk, 0.0f, w.p, n);
        probabilities_tile(w.p, rows, n, diag, a.lse + li);
        if (diag >= n) {
          tile_gemm(true, n, d, rows, 1.0f, w.p, n, dout, d, kv_beta, dv, d);  // dV += P^T dO
        } else {
          causal_tile_gemm(CausalSum::kKeyRows, diag, true, n, d, rows, 1.0f, w.p, n, dout, d, kv_beta, dv, d);
        }
        if (diag >= n) tile_gemm(false, rows, n, d, 1.0f, dout, d, vt, bk, 0.0f, w.dp, n);  // dP = dO V^T
        else causal_tile_gemm(CausalSum::kScoreColumns, diag, false, rows, n, d, 1.0f, dout, d, vt, bk, 0.0f, w.dp, n);
        softmax_grad_tile(w.p, w.dp, rows, n, diag, delta);
        if (diag >= n) {
          tile_gemm(true, n, d, rows, a.scale, w.p, n, q, d, kv_beta, dk, d);  // dK += scale dS^T Q
          tile_gemm(false, rows, d, n, a.scale, w.p, n, k, d, q_beta, dq, d);  // dQ += scale dS K
        } else {
          causal_tile_gemm(CausalSum::kKeyRows, diag, true, n, d, rows, a.scale, w.p, n, q, d, kv_beta, dk, d);
          causal_tile_gemm(CausalSum::kQueryRows, diag, false, rows, d, n, a.scale, w.p, n, k, d, q_beta, dq, d);
        }
      }
    }
    store_rows(w.dq, seq.len - first, d, dq_part + lay.q_row(b, seq.off + first, h), lay.q_stride());
  }
  store_rows(w.dk, last - first, d, static_cast<T*>(a.dk) + lay.kv_row(b, seq.off + first, g), lay.kv_stride());
  store_rows(w.dv, last - first, d, static_cast<T*>(a.dv) + lay.kv_row(b, seq.off + first, g), lay.kv_stride());
}

// dq = the sum of the segments' parts in order (unless it accumulated in place); zeros on padding rows.
template <class T>
void finish_backward(ThreadPool& pool, const Layout& lay, float* parts, int64_t segments, bool in_place) {
  const AttentionArgs& a = lay.a;
  const int64_t part = lay.rows() * a.h * a.d;
  pool.parallel_for(lay.rows(), 16, [&](int64_t begin, int64_t end, int) {
    for (int64_t row = begin; row < end; ++row) {
      if (lay.padding_row(row)) {
        for (int64_t h = 0; h < a.h; ++h) zero_row(static_cast<T*>(a.dq) + lay.q_of_row(row, h), a.d);
        for (int64_t g = 0; g < a.kvh; ++g) {
          zero_row(static_cast<T*>(a.dk) + lay.kv_of_row(row, g), a.d);
          zero_row(static_cast<T*>(a.dv) + lay.kv_of_row(row, g), a.d);
        }
        continue;
      }
      if (in_place) continue;
      for (int64_t h = 0; h < a.h; ++h) {
        float* sum = parts + lay.q_of_row(row, h);
        for (int64_t s = 1; s < segments; ++s)
          for (int64_t c = 0; c < a.d; ++c) sum[c] += sum[s * part + c];
        store_rows(sum, 1, a.d, static_cast<T*>(a.dq) + lay.q_of_row(row, h), 0);
      }
    }
  });
}

template <class T>
void attention_backward(ThreadPool& pool, Workspace& workspace, const AttentionArgs& a) {
  Layout lay(a);
  Workspace::Lease memory = workspace.lease();
  const int64_t q_count = lay.rows() * a.h * a.d;
  Arena arena(memory, pool.size(), BackwardCopy::floats(lay));

  const int64_t segments = segment_count(pool.size(), a, lay.bk);
  const bool in_place = segments == 1 && std::is_same_v<T, float>;
  float* parts = in_place ? static_cast<float*>(a.dq) : memory.floats(size_t(segments * q_count));

  const std::vector<int64_t> order = longest_first(lay);
  pool.parallel_items(a.b * a.kvh * segments, [&](int64_t item, int worker) {
    int64_t seg = item % segments, bg = item / segments;
    backward_segment<T>(lay, order[size_t(bg / a.kvh)], bg % a.kvh, seg, segments, parts + seg * q_count,
                        BackwardCopy(arena.worker(worker), lay));
  });
  finish_backward<T>(pool, lay, parts, segments, in_place);
}

}  // namespace

wpm_status CpuBackend::attention_fwd(const AttentionArgs& args) {
  return dispatch_float(args.dtype, [&](auto tag) {
    attention_forward<decltype(tag)>(pool_, workspace_, args);
    return WPM_OK;
  });
}

wpm_status CpuBackend::attention_bwd(const AttentionArgs& args) {
  if (args.h * args.d > INT_MAX)  // the row stride of dQ as an sgemm leading dimension
    return fail(WPM_ERR_UNSUPPORTED, "wpm_attention_bwd: the cpu backend needs h * d <= %d", INT_MAX);
  return dispatch_float(args.dtype, [&](auto tag) {
    attention_backward<decltype(tag)>(pool_, workspace_, args);
    return WPM_OK;
  });
}

}  // namespace wpm
