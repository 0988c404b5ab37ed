// Causal attention forward, flash style (one pass over the keys, online softmax,
// nothing T x T in memory), with GQA and per-sequence lengths.
//
//   q, out [B, T, H, D]; k, v [B, T, KVH, D]; f16 or bf16 storage, fp32 math and
//   fp32 accumulation (tensor cores, mma.m16n8k16 with f32 C/D); out in the input
//   dtype. lse f32 [B, H, T]: the natural-log logsumexp of each query row's scaled
//   scores, saved for the backward. D in {64, 128}; H % KVH == 0, query head h
//   reads kv head h / (H / KVH). lengths i32 [B] in 1..T (or null: all T);
//   sequence b holds rows off .. off + L - 1 (off = 0 right padding, T - L left).
//   Rows are counted from the sequence's first valid row, so query i attends keys
//   0..i of its own sequence in both paddings. Padding rows are never read (their
//   16-byte chunks are zero-filled by cp.async); their out rows and lse are 0.
//   scale 0 means 1 / sqrt(D).
//
// Tiling: grid (ceil(T / 64), H, B), block 128 threads = 4 warps. Block x owns
// query rows 64x .. 64x + 63 of its sequence (counted from the first valid row);
// warp w owns 16 of them, the rows of one mma A fragment. The block streams key
// tiles 0..x (64 keys each) through shared memory: tiles past the diagonal are
// fully masked and never visited, and only the diagonal tile x is masked
// (key > query); keys past the sequence end sit only there, above the diagonal
// of every valid query row, so the same mask covers them. K and V tiles are
// double-buffered: tile j + 1 is in flight (cp.async, 16-byte chunks, zfill
// past the sequence) while tile j is used. Per tile and warp:
//   S = Q K^T     ldmatrix.x4 of Q and of K (K stored [key][d] is mma's "col"
//                 B), D/16 x 8 mma; Q is re-read from shared memory every tile
//                 (held in registers instead, D = 128 took 254 registers and spilled)
//   softmax       in base 2: s = S * scale * log2(e); running row max m and
//                 per-lane partial row sum l; the max is combined over the 4
//                 lanes sharing a row by __shfl_xor_sync(1, 2); O and l are
//                 rescaled by exp2(m_old - m_new); P = exp2(s - m) rounded to
//                 the input dtype becomes the A fragments of the next mma directly
//   O += P V      ldmatrix.x4.trans of V (stored [key][d]), 4 x D/8 mma
// At the end l is summed over the quad, out = O / l, lse = ln2 (m + log2 l).
// Blocks whose query rows are all past the sequence end only write padding.
// Block x also zeroes padding rows 64x .. 64x + 63 (numbered 0 .. T - L - 1),
// so the ceil(T / 64) blocks of a head cover all T - L of them.
//
// Shared memory (dynamic): Q [64][D + 8], K [2][64][D + 8], V [2][64][D + 8]
// halves: 46,080 bytes for D = 64, 87,040 for D = 128 (> 48 KiB: klaunch sets
// cudaFuncAttributeMaxDynamicSharedMemorySize). Rows are padded by 8 halves
// (16 bytes) against bank conflicts, not swizzled: a row is then 144 / 272
// bytes, 16 bytes past a multiple of 128, so the 8 row addresses of one
// ldmatrix 8x8 matrix fall into 8 different 16-byte bank groups (conflict-free),
// and the 16-byte cp.async stores of one row stay contiguous.
//
// Cost: 4 B H T^2 D / 2 FLOPs causal (S and P V, 2 T^2 D each, half masked;
// the mma work rounds up to whole 64 x 64 tiles). Bytes from DRAM: q, k, v
// and out once, 2 (2 B T H D + 2 B T KVH D) for f16/bf16, and lse 4 B H T;
// K and V tiles are re-read by every query tile of every query head of a
// group, about 2 B H D T^2 / 64 bytes more, mostly from L2.
// Registers per thread: S 32 floats, O D/2 floats, P fragments 16 words.
// ptxas (nvcc 11.8, -Xptxas -v, scripts/kernel_report.sh): D = 64: 137 registers
// (sm_80) / 138 (sm_90); D = 128: 192 / 188; f16 and bf16 alike; 0-byte stack
// frame, no spills; dynamic shared memory only (46,080 / 87,040 bytes).
// SASS: HMMA.16816.F32[.BF16], LDSM, LDGSTS; no byte loads or stores, no local memory
// (scripts/check_sass.sh, CTest kernel_sass.attention and kernel_sass_deny.attention). Each lane holds
// two adjacent columns of a row per n-tile, so out goes out as 32-bit stores (st32 of a packed pair).
// Not measured on a GPU (none here). Emulator: tests/native/emu_attention_test.cpp.
//
// Packed batches (cu_seqlens, attention_batch.cuh): the same kernels over [T, H, D] tensors and lse [H, T];
// grid.z is the sequence and grid.x covers max_seqlen rows, so a block maps to (query tile, head, sequence)
// and blocks past their sequence's end return at once. A sequence's slot is its own rows: no padding rows.
//
// Backward (attention_bwd): dq [B, T, H, D], dk, dv [B, T, KVH, D] from q, k, v, out, lse and dout,
// in three kernels with no atomics: every output element is written once by one thread, so the result
// is bitwise deterministic. Padding rows of dq, dk, dv are written 0; dk, dv of a kv head sum over its
// H / KVH query heads in head order (with GQA, in the reduce kernel).
//   preprocess  grid (ceil(T / (1024 / D)), H, B), 128 threads, D / 8 lanes per row (each one 16-byte
//               chunk of dO and O: a warp reads whole rows, coalesced; shuffles sum the lanes):
//               Delta[b, h, t] = sum_d dO O in fp32 (0 on padding rows), into the caller's workspace
//               (attention_bwd_workspace_bytes: f32 [B, H, T] first).
//   dK/dV       grid (ceil(T / 64), H, B), 4 warps: one block per key tile and query head, so a GQA
//               group's heads run in parallel (H / KVH times the blocks of one block per kv head: at
//               the reference model, H 8 over KVH 2, 32 B blocks instead of 8 B at T = 256). Block x owns
//               keys 64x .. 64x + 63 (from the first valid row), warp w 16 of them. The K and V tiles are
//               loaded once; the steps (query tiles x .. ceil(L / 64) - 1: earlier ones are fully
//               masked) stream Q and dO tiles, double-buffered like the forward's K and V. Per step and
//               warp (16 keys x 64 queries):
//                 S^T = K Q^T; P^T = exp2(S^T scale log2e - lse log2e), 0 above the diagonal (diagonal
//                 tile only) and for queries past L; dV += P^T dO (P^T packed to the input dtype as A
//                 fragments, as in the forward); dP^T = V dO^T one 8-query n-tile at a time (its A
//                 fragments re-read from shared memory per n-tile, so 4 accumulators live instead of
//                 32); dS^T = P^T (dP^T - Delta); dK += dS^T Q. dK = scale * acc at the store.
//               dK accumulates in registers; dV in registers at D = 64 and in shared memory at D = 128
//               (f32, fragment order, each lane owns its elements: no barrier needed; with dK, dV, S
//               all in registers, D = 128 spilled ~100 bytes). Without GQA the block stores dK, dV
//               (32-bit stores of packed pairs); with GQA it stores its head's f32 partials (64-bit
//               stores, zeros on padding rows) into the workspace, [H / KVH][B, T, KVH, D] each.
//   reduce      (GQA only) grid (ceil(B T KVH D / 1024), 2), 128 threads, 8 elements each: dK, dV =
//               the partials summed in head order (scale applied to dK), 16-byte loads and stores.
//               Deterministic without atomics; it costs 2 (H / KVH) B T KVH D f32 of workspace and
//               traffic, O(T) beside the O(T^2) of the kernels.
//   dQ          grid (ceil(T / 64), H, B), 4 warps, the forward's structure: Q and dO tiles once, key
//               tiles 0..x double-buffered; S = Q K^T, P recomputed from lse, dP = dO V^T per n-tile,
//               dS = P (dP - Delta), dQ += dS K (dS packed to the input dtype); dQ = scale * acc.
// Shared memory (dynamic): 6 tiles [64][D + 8] halves, 55,296 bytes (D = 64) / 104,448 (D = 128); the
// dK/dV kernel at D = 128 adds dV, f32 [64][128]: 137,216 bytes.
// Cost: the forward does 2 matmuls of T^2 D FLOPs per (b, h) (2 T^2 D each, half masked). The backward
// does 7: S, dV, dP, dK in the dK/dV kernel and S, dP, dQ again in the dQ kernel, 7 B H T^2 D FLOPs,
// 3.5x the forward; a single kernel accumulating dQ with float atomics would need 5 (2.5x), the
// recomputation of S and dP (2 B H T^2 D) is the price of determinism without atomics. The dP A
// fragments are re-read from shared memory 8x (per n-tile) to save registers.
// ptxas (nvcc 11.8, -Xptxas -v), registers sm_80 / sm_90, f16 and bf16 alike, 0-byte stack frame, no
// spills: preprocess 20 (bf16 18) / 20 (bf16 22); dK/dV D = 64: 184 / 155, D = 128: 252 / 251; dQ D = 64:
// 143 / 139, D = 128: 254 / 253; reduce 34 / 34 (scripts/kernel_report.sh; blocks per SM and waves:
// scripts/occupancy_report.sh). Not measured on a GPU. Emulator: tests/native/emu_attention_bwd_test.cpp.
#include "attention_batch.cuh"
#include "attention_check.cuh"
#include "cp_async.cuh"
#include "kemu.h"
#include "ldmatrix.cuh"
#include "mma.cuh"

#include <type_traits>

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kBlockQ = 16 * kWarps;  // query rows per block
constexpr int kBlockK = 64;           // keys per tile
constexpr int kPad = 8;               // halves of padding per shared row
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

template <int D>
constexpr size_t smem_bytes() {
  return size_t(kBlockQ + 4 * kBlockK) * (D + kPad) * sizeof(uint16_t);
}

// Backward: K, V (dK/dV kernel) or Q, dO (dQ kernel) [64][D + 8] once, and the streamed pair
// double-buffered [2][2][64][D + 8]; at D = 128 the dK/dV kernel adds its dV accumulator, f32 [64][D].
template <int D>
constexpr bool kDvInSmem = D == 128;
template <int D>
constexpr size_t smem_bytes_bwd(bool dkdv) {
  return size_t(6 * 64) * (D + kPad) * sizeof(uint16_t) + (dkdv && kDvInSmem<D> ? size_t(64) * D * 4 : 0);
}

template <class T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  return uint32_t(from_float<T>(lo).bits) | (uint32_t(from_float<T>(hi).bits) << 16);
}

// d += a b in the tensor cores, f16 or bf16 inputs by the storage tag.
__device__ __forceinline__ void mma(half_t, float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  mma_m16n8k16_f16f32(d, a, b, d);
}
__device__ __forceinline__ void mma(bf16_t, float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  mma_m16n8k16_bf16f32(d, a, b, d);
}

// Copies rows [0, 64) of a tile into smem [64][D + kPad]: row r (counted from the
// sequence start) reads src + r * stride when r < valid, else zero-fills (reading
// nothing; src itself stays the aligned dummy address).
template <int D>
__device__ __forceinline__ void load_tile(uint16_t* smem, const uint16_t* src, int64_t stride, int valid) {
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
#pragma unroll
  for (int i = 0; i < 64 * kChunks / kThreads; ++i) {
    const int c = int(threadIdx.x) + i * kThreads;
    const int row = c / kChunks, col = (c % kChunks) * 8;
    const bool ok = row < valid;
    cp_async_16_zfill(smem + row * (D + kPad) + col, ok ? src + row * stride + col : src, ok ? 16 : 0);
  }
}

template <class T, int D>
__global__ void __launch_bounds__(kThreads)
    attention_fwd_kernel(const uint16_t* __restrict__ q, const uint16_t* __restrict__ k,
                         const uint16_t* __restrict__ v, const int32_t* __restrict__ lengths,
                         const int32_t* __restrict__ cu_seqlens, uint16_t* __restrict__ out, float* __restrict__ lse,
                         int t_len, int heads, int kv_heads, float scale_log2, bool left_padding) {
  kernel_launch_bounds(kThreads);
  constexpr int kStride = D + kPad;
  const int tile = int(blockIdx.x), h = int(blockIdx.y), b = int(blockIdx.z);
  const int kvh = h / (heads / kv_heads);
  const AttnSeq sq = attention_sequence(lengths, cu_seqlens, b, t_len, heads, left_padding);
  const int len = sq.len, off = sq.off;
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;

  // Padding rows numbered tile*64 .. tile*64 + 63 (of span - len): out and lse are 0.
  for (int p = tile * kBlockQ + int(threadIdx.x) / (D / 8); p < tile * kBlockQ + kBlockQ && p < sq.span - len;
       p += kThreads / (D / 8)) {
    const int row = sq.padding_row(p);
    uint16_t* dst = out + ((sq.slot + row) * heads + h) * D + (int(threadIdx.x) % (D / 8)) * 8;
    st128(dst, uint4{0u, 0u, 0u, 0u});
    if (int(threadIdx.x) % (D / 8) == 0) lse[sq.lse(h, row)] = 0.0f;
  }
  const int q0 = tile * kBlockQ;  // first query row of this block, from the sequence start
  if (q0 >= len) return;          // the whole block: before any barrier

  uint16_t* smem = emu_dynamic_smem<uint16_t>();
  uint16_t* qs = smem;
  uint16_t* ks = qs + kBlockQ * kStride;  // [2][64][kStride]
  uint16_t* vs = ks + 2 * kBlockK * kStride;

  const int64_t q_stride = int64_t(heads) * D, kv_stride = int64_t(kv_heads) * D;
  const uint16_t* q_seq = q + (sq.slot + off) * q_stride + int64_t(h) * D;
  const uint16_t* k_seq = k + (sq.slot + off) * kv_stride + int64_t(kvh) * D;
  const uint16_t* v_seq = v + (sq.slot + off) * kv_stride + int64_t(kvh) * D;

  const int tiles = tile + 1;  // key tiles 0..tile; later ones are fully masked
  load_tile<D>(qs, q_seq + q0 * q_stride, q_stride, len - q0);
  load_tile<D>(ks, k_seq, kv_stride, len);
  load_tile<D>(vs, v_seq, kv_stride, len);
  cp_async_commit();

  float o[D / 8][4];  // O accumulator, n-tiles of 8 along D
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // rows g and g + 8
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  const int g = lane >> 2, tq = lane & 3;
  const int row_lo = q0 + warp * 16 + g;  // this lane's query rows: row_lo and row_lo + 8

  for (int j = 0; j < tiles; ++j) {
    const int buf = j & 1;
    if (j + 1 < tiles) {
      const int nb = (j + 1) & 1, k0 = (j + 1) * kBlockK;
      load_tile<D>(ks + nb * kBlockK * kStride, k_seq + k0 * kv_stride, kv_stride, len - k0);
      load_tile<D>(vs + nb * kBlockK * kStride, v_seq + k0 * kv_stride, kv_stride, len - k0);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // RAW: tile j (and Q) copied by every thread has landed before any warp's ldmatrix

    const uint16_t* kt = ks + buf * kBlockK * kStride;
    const uint16_t* vt = vs + buf * kBlockK * kStride;

    // S = Q K^T: 16 x 64 per warp, n-tiles of 8 keys, two k-steps of 16 along D at a time.
    float s[8][4];
#pragma unroll
    for (int n = 0; n < 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk += 2) {
      uint32_t qa[4], qb[4];  // Q A fragments of k-steps kk and kk + 1
      ldmatrix_x4(qa, qs + (warp * 16 + (lane & 15)) * kStride + kk * 16 + (lane >> 4) * 8);
      ldmatrix_x4(qb, qs + (warp * 16 + (lane & 15)) * kStride + kk * 16 + 16 + (lane >> 4) * 8);
#pragma unroll
      for (int n = 0; n < 8; ++n) {
        uint32_t kf[4];  // b fragments of k-steps kk (kf[0..1]) and kk + 1 (kf[2..3])
        ldmatrix_x4(kf, kt + (n * 8 + (lane & 7)) * kStride + kk * 16 + (lane >> 3) * 8);
        const uint32_t b0[2] = {kf[0], kf[1]}, b1[2] = {kf[2], kf[3]};
        mma(T{}, s[n], qa, b0);
        mma(T{}, s[n], qb, b1);
      }
    }

    // Online softmax in base 2; the causal mask only on the diagonal tile.
    const bool diagonal = j == tile;
    float mx[2] = {m[0], m[1]};
#pragma unroll
    for (int n = 0; n < 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = j * kBlockK + n * 8 + 2 * tq + (e & 1);
        const int row = row_lo + (e >> 1) * 8;
        s[n][e] = diagonal && key > row ? -INFINITY : s[n][e] * scale_log2;
        mx[e >> 1] = fmaxf(mx[e >> 1], s[n][e]);
      }
    float corr[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      corr[r] = exp2f(m[r] - mx[r]);  // 0 on the first tile (m = -inf); mx is finite: key 0 is never masked
      m[r] = mx[r];
      l[r] *= corr[r];
    }
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      o[n][0] *= corr[0];
      o[n][1] *= corr[0];
      o[n][2] *= corr[1];
      o[n][3] *= corr[1];
    }
    uint32_t pf[4][4];  // P as A fragments, k-steps of 16 keys
#pragma unroll
    for (int n = 0; n < 8; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[n][e] = exp2f(s[n][e] - m[e >> 1]);
        l[e >> 1] += s[n][e];
      }
      pf[n >> 1][(n & 1) * 2] = pack2<T>(s[n][0], s[n][1]);
      pf[n >> 1][(n & 1) * 2 + 1] = pack2<T>(s[n][2], s[n][3]);
    }

    // O += P V: V stored [key][d] is a row-major B; .trans gives the fragments.
#pragma unroll
    for (int kk = 0; kk < 4; ++kk)
#pragma unroll
      for (int n = 0; n < D / 8; n += 2) {
        uint32_t vf[4];  // b fragments of n-tiles n (vf[0..1]) and n + 1 (vf[2..3])
        ldmatrix_x4_trans(vf, vt + (kk * 16 + (lane & 15)) * kStride + n * 8 + (lane >> 4) * 8);
        const uint32_t b0[2] = {vf[0], vf[1]}, b1[2] = {vf[2], vf[3]};
        mma(T{}, o[n], pf[kk], b0);
        mma(T{}, o[n + 1], pf[kk], b1);
      }
    __syncthreads();  // WAR: every warp is done reading buffer j & 1 before iteration j + 1 refills it with tile j + 2
  }

  // Epilogue: complete the row sums over the quad, normalise, store rows that are in the sequence.
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    const int row = row_lo + r * 8;
    if (row >= len) continue;
    const float inv = 1.0f / l[r];
    uint16_t* dst = out + ((sq.slot + off + row) * heads + h) * D + 2 * tq;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      st32(dst + n * 8, pack2<T>(o[n][2 * r] * inv, o[n][2 * r + 1] * inv));
    }
    if (tq == 0) lse[sq.lse(h, off + row)] = (m[r] + log2f(l[r])) * kLn2;
  }
}

template <class T, int D>
kstatus launch(kstream_t stream, const void* q, const void* k, const void* v, const int32_t* lengths, void* out,
               float* lse, int64_t b, int64_t t, int64_t h, int64_t kvh, float scale, kpadding padding,
               const int32_t* cu_seqlens, int64_t max_seqlen) {
  const int64_t rows = attention_slot_rows(cu_seqlens, t, max_seqlen);
  const dim3 grid(unsigned((rows + kBlockQ - 1) / kBlockQ), unsigned(h), unsigned(b));
  const float scale_log2 = (scale != 0.0f ? scale : 1.0f / sqrtf(float(D))) * kLog2e;
  // q and out [b, t, h, D], k and v [b, t, kvh, D] once each, lse, lengths
  klaunch_min_bytes(uint64_t(attention_planes(cu_seqlens, b) * t) * (2 * uint64_t(h + kvh) * D * 2 + 4 * uint64_t(h)) +
                    4 * uint64_t(b));
  return klaunch(attention_fwd_kernel<T, D>, grid, dim3(kThreads), smem_bytes<D>(), stream,
                 static_cast<const uint16_t*>(q), static_cast<const uint16_t*>(k), static_cast<const uint16_t*>(v),
                 lengths, cu_seqlens, static_cast<uint16_t*>(out), lse, int(t), int(h), int(kvh), scale_log2,
                 padding == kpadding::left);
}

// ---- backward

// Delta_i = sum_d dO[i][d] O[i][d] in fp32, laid out as lse; padding rows get 0. D / 8 adjacent lanes share a row, each
// reading one 16-byte chunk of dO and of O, so a warp reads 32 / (D / 8) whole rows per load instruction;
// the lanes' partial dots are then summed with butterfly shuffles inside their group of D / 8 lanes.
template <int D>
constexpr int kPreprocessRows = kThreads / (D / 8);  // rows per block
template <class T, int D>
__global__ void __launch_bounds__(kThreads)
    attention_bwd_preprocess_kernel(const uint16_t* __restrict__ out, const uint16_t* __restrict__ dout,
                                    const int32_t* __restrict__ lengths, const int32_t* __restrict__ cu_seqlens,
                                    float* __restrict__ delta, int t_len, int heads, bool left_padding) {
  kernel_launch_bounds(kThreads);
  constexpr int kLanesPerRow = D / 8;
  const int h = int(blockIdx.y), b = int(blockIdx.z);
  const int row = int(blockIdx.x) * kPreprocessRows<D> + int(threadIdx.x) / kLanesPerRow;
  const int chunk = int(threadIdx.x) % kLanesPerRow;
  const AttnSeq sq = attention_sequence(lengths, cu_seqlens, b, t_len, heads, left_padding);
  float acc = 0.0f;
  if (row < sq.span && row >= sq.off && row < sq.off + sq.len) {
    const int64_t at = ((sq.slot + row) * heads + h) * D + chunk * 8;
    const Pack16<uint16_t> d = load16(dout + at), o = load16(out + at);
#pragma unroll
    for (int x = 0; x < 8; ++x) acc += to_float(T{d.v[x]}) * to_float(T{o.v[x]});
  }
  // Every lane takes part (no early return): the shuffles need the whole warp.
#pragma unroll
  for (int s = kLanesPerRow / 2; s > 0; s /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, s);
  if (chunk == 0 && row < sq.span) delta[sq.lse(h, row)] = acc;
}

// Zeroes the padding rows tile*64 .. tile*64 + 63 (numbered 0 .. span - len - 1) of one head of sequence sq's
// slot of x [rows, heads, D] (16-bit or f32 elements).
template <int D, class E>
__device__ __forceinline__ void zero_padding_rows(E* x, int tile, const AttnSeq& sq, int head, int heads) {
  constexpr int kChunks = D * int(sizeof(E)) / 16;  // 16-byte chunks per row
  for (int p = tile * 64 + int(threadIdx.x) / kChunks; p < tile * 64 + 64 && p < sq.span - sq.len;
       p += kThreads / kChunks) {
    const int row = sq.padding_row(p);
    st128(x + ((sq.slot + row) * heads + head) * D + (int(threadIdx.x) % kChunks) * int(16 / sizeof(E)),
          uint4{0u, 0u, 0u, 0u});
  }
}

// acc[16 x 64] += A[16 rows of `a`, warp's rows] B^T with B = 64 rows of `bt` ([row][d], "col" B): the
// S = Q K^T pattern of the forward, for any pair of [.][d] tiles.
template <class T, int D>
__device__ __forceinline__ void mma_abt(float (&acc)[8][4], const uint16_t* a, const uint16_t* bt, int lane) {
  constexpr int kStride = D + kPad;
#pragma unroll
  for (int kk = 0; kk < D / 16; kk += 2) {
    uint32_t fa[4], fb[4];
    ldmatrix_x4(fa, a + (lane & 15) * kStride + kk * 16 + (lane >> 4) * 8);
    ldmatrix_x4(fb, a + (lane & 15) * kStride + kk * 16 + 16 + (lane >> 4) * 8);
#pragma unroll
    for (int n = 0; n < 8; ++n) {
      uint32_t kf[4];
      ldmatrix_x4(kf, bt + (n * 8 + (lane & 7)) * kStride + kk * 16 + (lane >> 3) * 8);
      const uint32_t b0[2] = {kf[0], kf[1]}, b1[2] = {kf[2], kf[3]};
      mma(T{}, acc[n], fa, b0);
      mma(T{}, acc[n], fb, b1);
    }
  }
}

// acc[16 x 8] += n-tile n of the same product: the A fragments are re-read from shared memory for every
// n-tile, so only 4 accumulators are live (dP beside S, dK and dV at D = 128 would not fit in registers).
template <class T, int D>
__device__ __forceinline__ void mma_abt_ntile(float (&acc)[4], const uint16_t* a, const uint16_t* bt, int n,
                                              int lane) {
  constexpr int kStride = D + kPad;
#pragma unroll
  for (int kk = 0; kk < D / 16; kk += 2) {
    uint32_t fa[4], fb[4], kf[4];
    ldmatrix_x4(fa, a + (lane & 15) * kStride + kk * 16 + (lane >> 4) * 8);
    ldmatrix_x4(fb, a + (lane & 15) * kStride + kk * 16 + 16 + (lane >> 4) * 8);
    ldmatrix_x4(kf, bt + (n * 8 + (lane & 7)) * kStride + kk * 16 + (lane >> 3) * 8);
    const uint32_t b0[2] = {kf[0], kf[1]}, b1[2] = {kf[2], kf[3]};
    mma(T{}, acc, fa, b0);
    mma(T{}, acc, fb, b1);
  }
}

// acc[16 x D] += P[16 x 64] (A fragments) B with B = 64 rows of `bs` ([k][d], row-major B): the O += P V
// pattern of the forward.
template <class T, int D>
__device__ __forceinline__ void mma_pb(float (&acc)[D / 8][4], const uint32_t (&pf)[4][4], const uint16_t* bs,
                                       int lane) {
  constexpr int kStride = D + kPad;
#pragma unroll
  for (int kk = 0; kk < 4; ++kk)
#pragma unroll
    for (int n = 0; n < D / 8; n += 2) {
      uint32_t vf[4];
      ldmatrix_x4_trans(vf, bs + (kk * 16 + (lane & 15)) * kStride + n * 8 + (lane >> 4) * 8);
      const uint32_t b0[2] = {vf[0], vf[1]}, b1[2] = {vf[2], vf[3]};
      mma(T{}, acc[n], pf[kk], b0);
      mma(T{}, acc[n + 1], pf[kk], b1);
    }
}

// mma_pb with the accumulator in shared memory, in fragment order (element e of n-tile n of lane l at
// acc[(n * 4 + e) * 32 + l]: each lane owns its elements, so no barrier, and the 32 lanes hit 32 banks).
template <class T, int D>
__device__ __forceinline__ void mma_pb_smem(float* acc, const uint32_t (&pf)[4][4], const uint16_t* bs, int lane) {
  constexpr int kStride = D + kPad;
#pragma unroll 2
  for (int n = 0; n < D / 8; n += 2) {
    float c0[4], c1[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) c0[e] = acc[(n * 4 + e) * 32 + lane], c1[e] = acc[(n * 4 + 4 + e) * 32 + lane];
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      uint32_t vf[4];
      ldmatrix_x4_trans(vf, bs + (kk * 16 + (lane & 15)) * kStride + n * 8 + (lane >> 4) * 8);
      const uint32_t b0[2] = {vf[0], vf[1]}, b1[2] = {vf[2], vf[3]};
      mma(T{}, c0, pf[kk], b0);
      mma(T{}, c1, pf[kk], b1);
    }
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[(n * 4 + e) * 32 + lane] = c0[e], acc[(n * 4 + 4 + e) * 32 + lane] = c1[e];
  }
}

// Packs a 16 x 64 fp32 accumulator into the A fragments of 4 k-steps of 16 (the forward's P packing).
template <class T>
__device__ __forceinline__ void pack_a(uint32_t (&pf)[4][4], const float (&s)[8][4]) {
#pragma unroll
  for (int n = 0; n < 8; ++n) {
    pf[n >> 1][(n & 1) * 2] = pack2<T>(s[n][0], s[n][1]);
    pf[n >> 1][(n & 1) * 2 + 1] = pack2<T>(s[n][2], s[n][3]);
  }
}

// Calls put(at, lo, hi) for every pair of adjacent columns (2t, 2t + 1 of each n-tile) this lane holds of a
// warp's 16 x D fp32 accumulator, rows r0 + g and r0 + g + 8 (from the sequence start) when < len, with
// at = row_base + row * row_stride + column: the element offset of the pair in a [B, T, heads, D] tensor.
template <int D, class Put>
__device__ __forceinline__ void for_each_pair(const float (&acc)[D / 8][4], int r0, int len, int64_t row_base,
                                              int64_t row_stride, int lane, Put put) {
  const int g = lane >> 2, tq = lane & 3;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = r0 + g + r * 8;
    if (row >= len) continue;
    const int64_t at = row_base + row * row_stride + 2 * tq;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) put(at + n * 8, acc[n][2 * r], acc[n][2 * r + 1]);
  }
}

// Stores the accumulator times `mul` into x in the input dtype, one 32-bit store per pair of halves.
template <class T, int D>
__device__ __forceinline__ void store_rows(uint16_t* x, const float (&acc)[D / 8][4], float mul, int r0, int len,
                                           int64_t row_base, int64_t row_stride, int lane) {
  for_each_pair<D>(acc, r0, len, row_base, row_stride, lane,
                   [&](int64_t at, float lo, float hi) { st32(x + at, pack2<T>(lo * mul, hi * mul)); });
}

// Stores the accumulator as it is into an f32 tensor, one 64-bit store per pair (a quad fills a 32-byte sector).
template <int D>
__device__ __forceinline__ void store_rows_f32(float* x, const float (&acc)[D / 8][4], int r0, int len,
                                               int64_t row_base, int64_t row_stride, int lane) {
  for_each_pair<D>(acc, r0, len, row_base, row_stride, lane,
                   [&](int64_t at, float lo, float hi) { st64(x + at, float2{lo, hi}); });
}

// The contribution of query head h to dK, dV of key block x (64 keys) of its kv head: query tiles x ..
// (causal), streamed through double-buffered Q and dO tiles. Without GQA that is dK, dV itself (stored in
// the input dtype); with GQA it is stored f32 into slice h % group of dk_part / dv_part ([group][B, T, KVH,
// D]), and attention_bwd_reduce_kernel sums the group. Either way the padding rows are zeroed here.
template <class T, int D>
__global__ void __launch_bounds__(kThreads)
    attention_bwd_dkdv_kernel(const uint16_t* __restrict__ q, const uint16_t* __restrict__ k,
                              const uint16_t* __restrict__ v, const uint16_t* __restrict__ dout,
                              const float* __restrict__ lse, const float* __restrict__ delta,
                              const int32_t* __restrict__ lengths, const int32_t* __restrict__ cu_seqlens,
                              uint16_t* __restrict__ dk, uint16_t* __restrict__ dv, float* __restrict__ dk_part,
                              float* __restrict__ dv_part, int t_len, int heads, int kv_heads, float scale,
                              float scale_log2, bool left_padding) {
  kernel_launch_bounds(kThreads);
  constexpr int kStride = D + kPad;
  const int tile = int(blockIdx.x), h = int(blockIdx.y), b = int(blockIdx.z);
  const int group = heads / kv_heads, kvh = h / group;
  const bool partial = group > 1;
  const AttnSeq sq = attention_sequence(lengths, cu_seqlens, b, t_len, heads, left_padding);
  const int len = sq.len, off = sq.off;
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;

  // This head's slice of dk_part, dv_part (planes of rows x KVH x D: B T rows padded, T packed). The padding
  // rows are zeroed on the way out, so that nothing derived from the slice lives through the main loop (at
  // D = 64 that made sm_90 spill).
  auto slice = [&] {
    return int64_t(h % group) * (cu_seqlens ? int64_t(1) : int64_t(gridDim.z)) * t_len * kv_heads * D;
  };
  auto zero_padding = [&] {
    if (partial) {
      zero_padding_rows<D>(dk_part + slice(), tile, sq, kvh, kv_heads);
      zero_padding_rows<D>(dv_part + slice(), tile, sq, kvh, kv_heads);
    } else {
      zero_padding_rows<D>(dk, tile, sq, kvh, kv_heads);
      zero_padding_rows<D>(dv, tile, sq, kvh, kv_heads);
    }
  };
  const int k0 = tile * kBlockK;
  if (k0 >= len) {  // the whole block: before any barrier
    zero_padding();
    return;
  }

  uint16_t* smem = emu_dynamic_smem<uint16_t>();
  uint16_t* ks = smem;                    // [64][kStride]
  uint16_t* vs = ks + kBlockK * kStride;  // [64][kStride]
  uint16_t* qs = vs + kBlockK * kStride;  // [2][64][kStride]
  uint16_t* dos = qs + 2 * kBlockQ * kStride;
  // dV of this warp's 16 keys in shared memory at D = 128 (fragment order), else in registers.
  float* dv_smem = reinterpret_cast<float*>(dos + 2 * kBlockQ * kStride) + warp * 16 * D;

  const int64_t q_stride = int64_t(heads) * D, kv_stride = int64_t(kv_heads) * D;
  const int64_t seq = sq.slot + off;
  const uint16_t* k_seq = k + seq * kv_stride + int64_t(kvh) * D;
  const uint16_t* v_seq = v + seq * kv_stride + int64_t(kvh) * D;
  const int steps = (len + kBlockQ - 1) / kBlockQ - tile;  // query tiles tile ..

  // Step j: query tile tile + j.
  auto load_step = [&](int j, int buf) {
    const int q0 = (tile + j) * kBlockQ;
    const int64_t at = (seq + q0) * q_stride + int64_t(h) * D;
    load_tile<D>(qs + buf * kBlockQ * kStride, q + at, q_stride, len - q0);
    load_tile<D>(dos + buf * kBlockQ * kStride, dout + at, q_stride, len - q0);
  };
  load_tile<D>(ks, k_seq + k0 * kv_stride, kv_stride, len - k0);
  load_tile<D>(vs, v_seq + k0 * kv_stride, kv_stride, len - k0);
  load_step(0, 0);
  cp_async_commit();

  float dkacc[D / 8][4], dvacc[D / 8][4];  // this warp's 16 keys x D (dvacc: only the final store when kDvInSmem)
#pragma unroll
  for (int n = 0; n < D / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      dkacc[n][e] = dvacc[n][e] = 0.0f;
      if (kDvInSmem<D>) dv_smem[(n * 4 + e) * 32 + lane] = 0.0f;
    }
  const int g = lane >> 2, tq = lane & 3;
  const int key_lo = k0 + warp * 16 + g;  // this lane's keys: key_lo and key_lo + 8

  for (int j = 0; j < steps; ++j) {
    const int buf = j & 1;
    if (j + 1 < steps) {
      load_step(j + 1, buf ^ 1);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // RAW: step j's Q and dO (and K, V) copied by every thread have landed before any ldmatrix

    const int qt = tile + j, q0 = qt * kBlockQ;
    const uint16_t* qt_s = qs + buf * kBlockQ * kStride;
    const uint16_t* dot_s = dos + buf * kBlockQ * kStride;
    const float* lse_h = lse + sq.lse(h, off);
    const float* delta_h = delta + sq.lse(h, off);

    // S^T = K Q^T (16 keys x 64 queries per warp), P^T = exp2(S^T scale log2e - lse log2e), masked.
    float s[8][4];
#pragma unroll
    for (int n = 0; n < 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
    mma_abt<T, D>(s, ks + warp * 16 * kStride, qt_s, lane);
    const bool diagonal = qt == tile;
#pragma unroll
    for (int n = 0; n < 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int query = q0 + n * 8 + 2 * tq + (e & 1), key = key_lo + (e >> 1) * 8;
        const bool live = query < len && !(diagonal && key > query);
        s[n][e] = live ? exp2f(s[n][e] * scale_log2 - lse_h[query] * kLog2e) : 0.0f;
      }
    uint32_t pf[4][4];
    pack_a<T>(pf, s);
    if (kDvInSmem<D>)
      mma_pb_smem<T, D>(dv_smem, pf, dot_s, lane);  // dV += P^T dO
    else
      mma_pb<T, D>(dvacc, pf, dot_s, lane);

    // dP^T = V dO^T, dS^T = P^T (dP^T - Delta), dK += dS^T Q (scale applied at the store).
#pragma unroll
    for (int n = 0; n < 8; ++n) {
      float dp[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      mma_abt_ntile<T, D>(dp, vs + warp * 16 * kStride, dot_s, n, lane);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int query = q0 + n * 8 + 2 * tq + (e & 1);
        s[n][e] = query < len ? s[n][e] * (dp[e] - delta_h[query]) : 0.0f;
      }
    }
    pack_a<T>(pf, s);
    mma_pb<T, D>(dkacc, pf, qt_s, lane);
    __syncthreads();  // WAR: every warp is done reading buffer j & 1 before iteration j + 1 refills it (step j + 2)
  }

  if (kDvInSmem<D>)
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) dvacc[n][e] = dv_smem[(n * 4 + e) * 32 + lane];
  const int64_t base = seq * kv_stride + int64_t(kvh) * D;
  if (partial) {
    store_rows_f32<D>(dk_part + slice(), dkacc, k0 + warp * 16, len, base, kv_stride, lane);
    store_rows_f32<D>(dv_part + slice(), dvacc, k0 + warp * 16, len, base, kv_stride, lane);
  } else {
    store_rows<T, D>(dk, dkacc, scale, k0 + warp * 16, len, base, kv_stride, lane);
    store_rows<T, D>(dv, dvacc, 1.0f, k0 + warp * 16, len, base, kv_stride, lane);
  }
  zero_padding();
}

// GQA: dK (y = 0) or dV (y = 1) from the f32 partials of the group's query heads (padding rows 0 in every
// partial), summed in head order (a fixed order: deterministic), times scale for dK, in the input dtype.
// One thread per 8 consecutive elements of the [B, T, KVH, D] plane: two 16-byte loads per partial, one
// 16-byte store.
template <class T>
__global__ void __launch_bounds__(kThreads)
    attention_bwd_reduce_kernel(const float* __restrict__ dk_part, const float* __restrict__ dv_part,
                                uint16_t* __restrict__ dk, uint16_t* __restrict__ dv, int64_t plane, int group,
                                float scale) {
  kernel_launch_bounds(kThreads);
  const bool is_dv = blockIdx.y == 1;
  const int64_t at = (int64_t(blockIdx.x) * kThreads + threadIdx.x) * 8;
  if (at >= plane) return;
  const float* part = (is_dv ? dv_part : dk_part) + at;
  float sum[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  for (int s = 0; s < group; ++s) {
    const Pack16<float> lo = load16(part + s * plane), hi = load16(part + s * plane + 4);
#pragma unroll
    for (int x = 0; x < 4; ++x) sum[x] += lo.v[x], sum[4 + x] += hi.v[x];
  }
  const float mul = is_dv ? 1.0f : scale;
  Pack16<uint16_t> o;
#pragma unroll
  for (int x = 0; x < 8; ++x) o.v[x] = from_float<T>(sum[x] * mul).bits;
  store16((is_dv ? dv : dk) + at, o);
}

// dQ of query block x of head h: key tiles 0..x streamed like the forward, P and dS recomputed.
template <class T, int D>
__global__ void __launch_bounds__(kThreads)
    attention_bwd_dq_kernel(const uint16_t* __restrict__ q, const uint16_t* __restrict__ k,
                            const uint16_t* __restrict__ v, const uint16_t* __restrict__ dout,
                            const float* __restrict__ lse, const float* __restrict__ delta,
                            const int32_t* __restrict__ lengths, const int32_t* __restrict__ cu_seqlens,
                            uint16_t* __restrict__ dq, int t_len, int heads, int kv_heads, float scale,
                            float scale_log2, bool left_padding) {
  kernel_launch_bounds(kThreads);
  constexpr int kStride = D + kPad;
  const int tile = int(blockIdx.x), h = int(blockIdx.y), b = int(blockIdx.z);
  const int kvh = h / (heads / kv_heads);
  const AttnSeq sq = attention_sequence(lengths, cu_seqlens, b, t_len, heads, left_padding);
  const int len = sq.len, off = sq.off;
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;

  zero_padding_rows<D>(dq, tile, sq, h, heads);
  const int q0 = tile * kBlockQ;
  if (q0 >= len) return;  // the whole block: before any barrier

  uint16_t* smem = emu_dynamic_smem<uint16_t>();
  uint16_t* qs = smem;                     // [64][kStride]
  uint16_t* dos = qs + kBlockQ * kStride;  // [64][kStride]
  uint16_t* ks = dos + kBlockQ * kStride;  // [2][64][kStride]
  uint16_t* vs = ks + 2 * kBlockK * kStride;

  const int64_t q_stride = int64_t(heads) * D, kv_stride = int64_t(kv_heads) * D;
  const int64_t seq = sq.slot + off;
  const uint16_t* k_seq = k + seq * kv_stride + int64_t(kvh) * D;
  const uint16_t* v_seq = v + seq * kv_stride + int64_t(kvh) * D;
  const int64_t q_at = (seq + q0) * q_stride + int64_t(h) * D;
  load_tile<D>(qs, q + q_at, q_stride, len - q0);
  load_tile<D>(dos, dout + q_at, q_stride, len - q0);
  load_tile<D>(ks, k_seq, kv_stride, len);
  load_tile<D>(vs, v_seq, kv_stride, len);
  cp_async_commit();

  const int g = lane >> 2, tq = lane & 3;
  const int row_lo = q0 + warp * 16 + g;
  float lse2[2], dl[2];  // lse log2e and Delta of rows row_lo, row_lo + 8 (0 past the sequence: never stored)
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = row_lo + r * 8;
    const int64_t at = sq.lse(h, off + row);
    lse2[r] = row < len ? lse[at] * kLog2e : 0.0f;
    dl[r] = row < len ? delta[at] : 0.0f;
  }
  float dqacc[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) dqacc[n][0] = dqacc[n][1] = dqacc[n][2] = dqacc[n][3] = 0.0f;

  const int tiles = tile + 1;
  for (int j = 0; j < tiles; ++j) {
    const int buf = j & 1;
    if (j + 1 < tiles) {
      const int nb = buf ^ 1, kn = (j + 1) * kBlockK;
      load_tile<D>(ks + nb * kBlockK * kStride, k_seq + kn * kv_stride, kv_stride, len - kn);
      load_tile<D>(vs + nb * kBlockK * kStride, v_seq + kn * kv_stride, kv_stride, len - kn);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // RAW: tile j (and Q, dO) copied by every thread has landed before any warp's ldmatrix

    const uint16_t* kt = ks + buf * kBlockK * kStride;
    const uint16_t* vt = vs + buf * kBlockK * kStride;
    float s[8][4];
#pragma unroll
    for (int n = 0; n < 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
    mma_abt<T, D>(s, qs + warp * 16 * kStride, kt, lane);  // S = Q K^T
    const bool diagonal = j == tile;
#pragma unroll
    for (int n = 0; n < 8; ++n) {
      float dp[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      mma_abt_ntile<T, D>(dp, dos + warp * 16 * kStride, vt, n, lane);  // dP = dO V^T, n-tile n
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = j * kBlockK + n * 8 + 2 * tq + (e & 1), r = e >> 1;
        const float p = diagonal && key > row_lo + r * 8 ? 0.0f : exp2f(s[n][e] * scale_log2 - lse2[r]);
        s[n][e] = p * (dp[e] - dl[r]);  // dS
      }
    }
    uint32_t pf[4][4];
    pack_a<T>(pf, s);
    mma_pb<T, D>(dqacc, pf, kt, lane);  // dQ += dS K
    __syncthreads();  // WAR: every warp is done reading buffer j & 1 before iteration j + 1 refills it with tile j + 2
  }
  store_rows<T, D>(dq, dqacc, scale, q0 + warp * 16, len, seq * q_stride + int64_t(h) * D, q_stride, lane);
}

// The backward's workspace: Delta, f32 laid out as lse ([B, H, T]), then with GQA the dK and dV partials, f32
// [H / KVH][B, T, KVH, D] each, every part 256-byte aligned. A packed batch is one plane: b = 1.
struct BwdWorkspace {
  int64_t delta_bytes, part_elems;  // part_elems: of one partial tensor (0 without GQA)
  BwdWorkspace(int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d)
      : delta_bytes((b * h * t * int64_t(sizeof(float)) + 255) / 256 * 256),
        part_elems(kvh > 0 && h > kvh ? (h / kvh) * b * t * kvh * d : 0) {}
  int64_t part_bytes() const { return (part_elems * int64_t(sizeof(float)) + 255) / 256 * 256; }
  int64_t bytes() const { return delta_bytes + 2 * part_bytes(); }
  float* delta(void* w) const { return static_cast<float*>(w); }
  float* part(void* w, int i) const {
    return part_elems ? reinterpret_cast<float*>(static_cast<char*>(w) + delta_bytes + i * part_bytes()) : nullptr;
  }
};

template <class T, int D>
kstatus launch_bwd(kstream_t stream, const void* q, const void* k, const void* v, const void* out, const float* lse,
                   const void* dout, void* dq, void* dk, void* dv, void* workspace, const int32_t* lengths, int64_t b,
                   int64_t t, int64_t h, int64_t kvh, float scale, kpadding padding, const int32_t* cu_seqlens,
                   int64_t max_seqlen) {
  const auto* q16 = static_cast<const uint16_t*>(q);
  const auto* k16 = static_cast<const uint16_t*>(k);
  const auto* v16 = static_cast<const uint16_t*>(v);
  const auto* do16 = static_cast<const uint16_t*>(dout);
  const bool left = padding == kpadding::left;
  const float sc = scale != 0.0f ? scale : 1.0f / sqrtf(float(D));
  const int64_t rows = attention_slot_rows(cu_seqlens, t, max_seqlen);
  const unsigned tiles = unsigned((rows + kBlockQ - 1) / kBlockQ);
  const BwdWorkspace ws(attention_planes(cu_seqlens, b), t, h, kvh, D);
  float* delta = ws.delta(workspace);
  float *dk_part = ws.part(workspace, 0), *dv_part = ws.part(workspace, 1);
  const unsigned pre_blocks = unsigned((rows + kPreprocessRows<D> - 1) / kPreprocessRows<D>);
  const uint64_t tokens = uint64_t(attention_planes(cu_seqlens, b) * t);  // real or padded token slots
  const uint64_t q_plane = tokens * uint64_t(h) * D * 2, kv_plane = tokens * uint64_t(kvh) * D * 2;
  const uint64_t row_bytes = tokens * uint64_t(h) * 4;  // one f32 per query row: lse or Delta
  klaunch_min_bytes(2 * q_plane + row_bytes + 4 * uint64_t(b));  // out, dout; Delta
  if (kstatus s = klaunch(attention_bwd_preprocess_kernel<T, D>, dim3(pre_blocks, unsigned(h), unsigned(b)),
                          dim3(kThreads), 0, stream, static_cast<const uint16_t*>(out), do16, lengths, cu_seqlens,
                          delta, int(t), int(h), left))
    return s;
  // One block per (key tile, query head): with GQA the group's heads run in parallel, H / KVH times the
  // blocks of one per kv head, and the reduce kernel sums their partials.
  klaunch_min_bytes(2 * q_plane + 2 * kv_plane + 2 * row_bytes + (dk_part ? 4 * uint64_t(h / kvh) * kv_plane : 2 * kv_plane));
  if (kstatus s = klaunch(attention_bwd_dkdv_kernel<T, D>, dim3(tiles, unsigned(h), unsigned(b)), dim3(kThreads),
                          smem_bytes_bwd<D>(true), stream, q16, k16, v16, do16, lse, static_cast<const float*>(delta),
                          lengths, cu_seqlens, static_cast<uint16_t*>(dk), static_cast<uint16_t*>(dv), dk_part,
                          dv_part, int(t), int(h), int(kvh), sc, sc * kLog2e, left))
    return s;
  if (dk_part) {
    const int64_t plane = ws.part_elems / (h / kvh);  // B T KVH D (T KVH D packed)
    klaunch_min_bytes(uint64_t(ws.part_elems) * 2 * 4 + 2 * kv_plane);  // the f32 partials; dk, dv
    if (kstatus s = klaunch(attention_bwd_reduce_kernel<T>, dim3(unsigned((plane / 8 + kThreads - 1) / kThreads), 2u),
                            dim3(kThreads), 0, stream, dk_part, dv_part, static_cast<uint16_t*>(dk),
                            static_cast<uint16_t*>(dv), plane, int(h / kvh), sc))
      return s;
  }
  klaunch_min_bytes(3 * q_plane + 2 * kv_plane + 2 * row_bytes);  // q, dout, dq; k, v; lse, Delta
  return klaunch(attention_bwd_dq_kernel<T, D>, dim3(tiles, unsigned(h), unsigned(b)), dim3(kThreads),
                 smem_bytes_bwd<D>(false), stream, q16, k16, v16, do16, lse, static_cast<const float*>(delta), lengths,
                 cu_seqlens, static_cast<uint16_t*>(dq), int(t), int(h), int(kvh), sc, sc * kLog2e, left);
}

}  // namespace

namespace WPM_KERNELS_NS {

// The shape, dtype and padding preconditions shared by the forward and backward launchers: the tensor-core
// kernels cover f16/bf16 with D 64 or 128 (attention_generic.cu covers the rest).
static kstatus check_attention_shape(const std::string& op, int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d,
                                     kpadding padding, kdtype dtype, const int32_t* lengths,
                                     const int32_t* cu_seqlens, int64_t max_seqlen) {
  if (kstatus status = check_attention_dims(op, b, t, h, kvh, padding); status != KSTATUS_OK) return status;
  if (kstatus status = check_attention_packing(op, lengths, cu_seqlens, t, max_seqlen, padding); status != KSTATUS_OK)
    return status;
  if (d != 64 && d != 128) return kfail(KSTATUS_INVALID_ARGUMENT, op + "d = " + std::to_string(d) + " (64 or 128)");
  if (dtype != kdtype::f16 && dtype != kdtype::bf16)
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "dtype must be f16 or bf16");
  return KSTATUS_OK;
}

kstatus attention_fwd(kstream_t stream, const void* q, const void* k, const void* v, const int32_t* lengths,
                      void* out, float* lse, int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d, float scale,
                      kpadding padding, kdtype dtype, const int32_t* cu_seqlens, int64_t max_seqlen) {
  const std::string op = "attention_fwd: ";
  if (kstatus status = check_attention_shape(op, b, t, h, kvh, d, padding, dtype, lengths, cu_seqlens, max_seqlen);
      status != KSTATUS_OK)
    return status;
  if (!q || !k || !v || !out || !lse) return kfail(KSTATUS_INVALID_ARGUMENT, op + "a pointer is null");
  if (!aligned16(q) || !aligned16(k) || !aligned16(v) || !aligned16(out))
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "q, k, v and out must be 16-byte aligned");
  const bool bf16 = dtype == kdtype::bf16;
  auto run = [&](auto tag, auto dim) {
    return launch<decltype(tag), decltype(dim)::value>(stream, q, k, v, lengths, out, lse, b, t, h, kvh, scale,
                                                       padding, cu_seqlens, max_seqlen);
  };
  if (d == 64)
    return bf16 ? run(bf16_t{}, std::integral_constant<int, 64>{}) : run(half_t{}, std::integral_constant<int, 64>{});
  return bf16 ? run(bf16_t{}, std::integral_constant<int, 128>{}) : run(half_t{}, std::integral_constant<int, 128>{});
}


int64_t attention_bwd_workspace_bytes(int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d) {
  return BwdWorkspace(b, t, h, kvh, d).bytes();
}

kstatus attention_bwd(kstream_t stream, const void* q, const void* k, const void* v, const void* out, const float* lse,
                      const void* dout, void* dq, void* dk, void* dv, void* workspace, const int32_t* lengths,
                      int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d, float scale, kpadding padding,
                      kdtype dtype, const int32_t* cu_seqlens, int64_t max_seqlen) {
  const std::string op = "attention_bwd: ";
  if (kstatus status = check_attention_shape(op, b, t, h, kvh, d, padding, dtype, lengths, cu_seqlens, max_seqlen);
      status != KSTATUS_OK)
    return status;
  if (!q || !k || !v || !out || !lse || !dout || !dq || !dk || !dv || !workspace)
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "a pointer is null");
  if (!aligned16(q) || !aligned16(k) || !aligned16(v) || !aligned16(dout) || !aligned16(dq) || !aligned16(dk) ||
      !aligned16(dv))
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "q, k, v, dout, dq, dk and dv must be 16-byte aligned");
  const bool bf16 = dtype == kdtype::bf16;
  auto run = [&](auto tag, auto dim) {
    return launch_bwd<decltype(tag), decltype(dim)::value>(stream, q, k, v, out, lse, dout, dq, dk, dv, workspace,
                                                           lengths, b, t, h, kvh, scale, padding, cu_seqlens,
                                                           max_seqlen);
  };
  if (d == 64)
    return bf16 ? run(bf16_t{}, std::integral_constant<int, 64>{}) : run(half_t{}, std::integral_constant<int, 64>{});
  return bf16 ? run(bf16_t{}, std::integral_constant<int, 128>{}) : run(half_t{}, std::integral_constant<int, 128>{});
}

}  // namespace WPM_KERNELS_NS
