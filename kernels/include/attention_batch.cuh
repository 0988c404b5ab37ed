// Where the sequences of an attention batch lie, for the kernels of attention.cu and attention_generic.cu.
// Two layouts, one description:
//   padded  b sequences in slots of t rows ([b, t, heads, d] tensors, lse [b, heads, t]); lengths i32 [b]
//           (null: all t), valid rows at the start of the slot (right padding) or its end (left);
//   packed  cu_seqlens i32 [b + 1] set: the b sequences end to end in t rows ([t, heads, d], lse [heads, t]),
//           sequence i in rows cu_seqlens[i] .. cu_seqlens[i + 1] - 1, its slot exactly its own rows (no
//           padding), none longer than max_seqlen.
// A block or warp asks attention_sequence for its sequence and then addresses rows of its slot: row r of
// the slot is token row slot + r of the tensors, and lse (or Delta) index lse(h, r). The grid's per-sequence
// dimension covers attention_slot_rows rows (t padded, max_seqlen packed); rows past a slot's span are no
// rows of it.
#pragma once

#include <string>

#include "kemu.h"

struct AttnSeq {
  int64_t slot;      // token row of the slot's row 0
  int span;          // rows in the slot
  int off, len;      // the valid rows: off .. off + len - 1 of the slot
  int64_t lse_slot;  // lse index of head 0, slot row 0
  int lse_head;      // lse elements between heads (t)
  __device__ __forceinline__ int64_t lse(int h, int row) const { return lse_slot + int64_t(h) * lse_head + row; }
  // The p-th padding row of the slot (p < span - len): those before the valid rows, then those after.
  __device__ __forceinline__ int padding_row(int p) const { return p < off ? p : len + p; }
};

__device__ __forceinline__ AttnSeq attention_sequence(const int32_t* lengths, const int32_t* cu_seqlens, int b,
                                                      int t_len, int heads, bool left_padding) {
  if (cu_seqlens) {
    const int first = cu_seqlens[b], len = cu_seqlens[b + 1] - first;
    return AttnSeq{first, len, 0, len, first, t_len};
  }
  const int len = lengths ? lengths[b] : t_len;
  return AttnSeq{int64_t(b) * t_len, t_len, left_padding ? t_len - len : 0, len, int64_t(b) * heads * t_len, t_len};
}

// AttnSeq::lse of token row slot + row, from the token row alone: a kernel that keeps only that row live
// across its main loop recomputes the rest from the block index and its arguments (padded lse [b, heads, t]
// puts (heads - 1) t elements of the other heads before each slot; packed lse [heads, t] none).
__device__ __forceinline__ int64_t attention_lse_index(const int32_t* cu_seqlens, int64_t token_row, int b, int h,
                                                       int heads, int t_len) {
  return token_row + int64_t(h) * t_len + (cu_seqlens ? 0 : int64_t(b) * (heads - 1) * t_len);
}

// Host side: the rows a grid covers per sequence, and how many [t, ...] planes the batch's tensors hold
// (b padded, 1 packed): the sizes of workspaces laid out like lse or dk.
inline int64_t attention_slot_rows(const int32_t* cu_seqlens, int64_t t, int64_t max_seqlen) {
  return cu_seqlens ? max_seqlen : t;
}
inline int64_t attention_planes(const int32_t* cu_seqlens, int64_t b) { return cu_seqlens ? 1 : b; }

// The packed layout's preconditions the launchers can check without reading device memory (the offsets
// themselves are the caller's word: the C ABI checks them).
inline kstatus check_attention_packing(const std::string& op, const int32_t* lengths, const int32_t* cu_seqlens,
                                       int64_t t, int64_t max_seqlen, kpadding padding) {
  if (!cu_seqlens) return KSTATUS_OK;
  if (lengths || padding != kpadding::right)
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "a packed batch (cu_seqlens) takes no lengths and right padding");
  if (max_seqlen < 1 || max_seqlen > t)
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "max_seqlen = " + std::to_string(max_seqlen) + " (1..t = " +
                                               std::to_string(t) + ")");
  return KSTATUS_OK;
}
