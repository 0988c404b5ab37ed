// Causal attention forward and backward on the CUDA cores: every storage dtype (f32, f16, bf16) and any
// head dim D in 1..256, for the cases attention.cu's tensor-core kernels do not cover (f32 storage, D other
// than 64 and 128). Same contract as attention_fwd / attention_bwd (kernels.h, worldpm.h):
//
//   q, out [B, T, H, D]; k, v [B, T, KVH, D] in the storage dtype, fp32 math and accumulation, out in the
//   storage dtype; lse f32 [B, H, T], the natural-log logsumexp of each query row's scaled scores, saved
//   for the backward. H % KVH == 0, query head h reads kv head h / (H / KVH). lengths i32 [B] in 1..T (or
//   null: all T); sequence b holds rows off .. off + L - 1 (off = 0 right padding, T - L left), and query i
//   of a sequence (counted from its first valid row) attends its keys 0..i. Padding rows are never read;
//   their out rows and lse are written 0. scale 0 means 1 / sqrt(D).
//
// Packed batches (cu_seqlens, attention_batch.cuh): [T, H, D] tensors, lse [H, T], grid.z the sequence and
// grid.x covering max_seqlen rows of its slot (its own tokens, no padding); warps past the slot return.
//
// Work split: one warp per row, the rows of a head handed out 4 to a block of 128 threads. Grid
// (ceil(T / 4), H, B) for the forward and dQ, (ceil(T / 4), KVH, B) for dK/dV; warp w of block x owns the
// absolute row 4x + w, so the warps of a head cover every row once and a padding row is zeroed by its own
// warp. Lane l owns dims l, l + 32, ..., (N = ceil(D / 32) rounded up to 1, 2, 4 or 8 values per lane,
// one instantiation each): a row is loaded by the warp in 32-element coalesced strips, and a dot product
// is N fused multiply-adds per lane and a butterfly warp reduction (fixed order, the same bits on every
// lane). No shared memory, no barriers, no atomics: every output element is written by one lane, and every
// sum runs in a fixed order, so results are bitwise deterministic.
//
// Forward, per query row i: keys 0..i in chunks of 4 (kChunk). The 4 key rows are loaded and their 4 scores
// reduced together by warp_reduce_sum4 (a transposed butterfly: 10 shuffles for the 4 sums instead of 20,
// which halves the emulator's time too: there every shuffle is a rendezvous of 32 fibers), then one online-softmax update
// per chunk in base 2: s = (q . k) scale log2(e), m = running max, O and l rescaled by exp2(m_old - m_new),
// p = exp2(s - m), l += p, O += p v. Keys past i inside the last chunk are not loaded (they may be padding)
// and count as s = -inf. At the end out = O / l and lse = ln2 (m + log2 l).
//
// Backward (attention_generic_bwd), two kernels, no atomics:
//   dQ       per query row i (grid of the forward): Delta_i = dO_i . O_i (fp32, warp-reduced) is written to
//            the workspace for the dK/dV kernel (this replaces attention.cu's separate Delta pass: the warp
//            that needs Delta first reads dO_i anyway); then keys 0..i in chunks of 4: s = q . k_j,
//            dp = dO_i . v_j, p = exp2(s scale log2e - lse_i log2e), dS = p (dp - Delta_i),
//            dQ += dS k_j; dQ = scale * acc.
//   dK/dV    per key row j of kv head g: the group's query heads in head order, for each its queries
//            i = j .. L - 1 in chunks of 4: p and dS recomputed as above, dV += p dO_i, dK += dS q_i;
//            dK = scale * acc. The sum over the group happens inside one warp in a fixed order.
//   workspace: attention_generic_bwd_workspace_bytes(b, t, h) bytes (Delta, f32 [B, H, T]; padding rows 0).
//
// Cost, with P = H * sum_b L_b (L_b + 1) / 2 causal (query, key) pairs (about B H T^2 / 2 for full
// sequences): forward 4 D FLOPs per pair (q . k and p v); backward 14 D per pair (dQ kernel: 2 dots + 1
// axpy; dK/dV kernel: 2 dots + 2 axpys): 3.5x the forward, the two recomputed dots being the price of
// determinism without atomics. Bytes: each warp streams its row's keys (and values) from L2 / L1: about
// 2 P D sizeof(T) bytes per pass through the caches (4 P D in the backward's two kernels), with q, k, v,
// out, dout read from DRAM about once when a head's K / V fit in L2. This is the fallback for the shapes
// the tensor cores do not cover, written for clarity and exact semantics; the CUDA cores here get a
// fraction of a tensor-core kernel's throughput (roughly one shuffle chain of 5 per key and dot product).
//
// ptxas (nvcc 11.8, scripts/kernel_report.sh), registers sm_80 / sm_90, ranges over the f32 / f16 / bf16
// instantiations; no shared memory, 0-byte stack frame, no spills. Registers grow with N because a lane
// holds kChunk = 4 key (or query and dO) strips of N values at once, which is what lets the 4 reductions
// share their shuffles (numbers measured before warp_reduce_sum4; the current ones: build/native/kernel_resources.txt):
//   forward  N = 1: 40 / 40, N = 2: 39-40 / 40, N = 4: 48 / 48, N = 8: 57-58 / 64
//   dQ       N = 1: 47 / 48, N = 2: 50-56 / 48, N = 4: 72 / 72, N = 8: 99-101 / 96
//   dK/dV    N = 1: 43-45 / 48, N = 2: 51 / 56, N = 4: 75 / 80, N = 8: 120-121 / 128
// Not measured on a GPU (none here). Emulator: tests/native/emu_attention_generic_test.cpp.
#include "attention_batch.cuh"
#include "attention_check.cuh"
#include "kemu.h"
#include "launch_util.cuh"
#include "warp_reduce.cuh"

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kChunk = 4;  // keys (forward, dQ) or queries (dK/dV) whose dot products are reduced together
constexpr int kMaxD = 256;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// This lane's N values of a D-wide row (dims lane + 32 e); dims past D read nothing and hold 0.
template <int N, class T>
__device__ __forceinline__ void load_row(float (&x)[N], const T* row, int d, int lane) {
#pragma unroll
  for (int e = 0; e < N; ++e) x[e] = lane + 32 * e < d ? to_float(row[lane + 32 * e]) : 0.0f;
}

template <int N, class T>
__device__ __forceinline__ void store_row(T* row, const float (&x)[N], float mul, int d, int lane) {
#pragma unroll
  for (int e = 0; e < N; ++e)
    if (lane + 32 * e < d) row[lane + 32 * e] = from_float<T>(x[e] * mul);
}

template <class T>
__device__ __forceinline__ void zero_row(T* row, int d, int lane) {
  for (int c = lane; c < d; c += 32) row[c] = from_float<T>(0.0f);
}

// This lane's share of a . b (the caller reduces it over the warp).
template <int N>
__device__ __forceinline__ float partial_dot(const float (&a)[N], const float (&b)[N]) {
  float s = 0.0f;
#pragma unroll
  for (int e = 0; e < N; ++e) s = fmaf(a[e], b[e], s);
  return s;
}

template <class T, int N>
__global__ void __launch_bounds__(kThreads)
    attention_generic_fwd_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                 const int32_t* __restrict__ lengths, const int32_t* __restrict__ cu_seqlens,
                                 T* __restrict__ out, float* __restrict__ lse, int t_len, int heads, int kv_heads,
                                 int d, float scale_log2, bool left_padding) {
  kernel_launch_bounds(kThreads);
  const int lane = int(threadIdx.x) & 31;
  const int row = int(blockIdx.x) * kWarps + (int(threadIdx.x) >> 5), h = int(blockIdx.y), b = int(blockIdx.z);
  const AttnSeq seq = attention_sequence(lengths, cu_seqlens, b, t_len, heads, left_padding);
  if (row >= seq.span) return;  // the last block's spare warps (no barrier anywhere, so they may leave)
  const int64_t q_stride = int64_t(heads) * d, kv_stride = int64_t(kv_heads) * d;
  const int64_t token = seq.slot + row;  // the only value of seq live to the end
  const int64_t q_at = token * q_stride + int64_t(h) * d;  // of out too
  const int i = row - seq.off;  // the query's index in its sequence
  if (i < 0 || i >= seq.len) {  // a padding row: written 0, nothing read
    zero_row(out + q_at, d, lane);
    if (lane == 0) lse[seq.lse(h, row)] = 0.0f;
    return;
  }
  const int64_t kv0 = (seq.slot + seq.off) * kv_stride + int64_t(h / (heads / kv_heads)) * d;
  const T* k_seq = k + kv0;
  const T* v_seq = v + kv0;

  float qr[N], o[N];
  load_row(qr, q + q_at, d, lane);
#pragma unroll
  for (int e = 0; e < N; ++e) o[e] = 0.0f;
  float m = -INFINITY, l = 0.0f;  // running max (base 2) and sum; the same on every lane
  for (int j0 = 0; j0 <= i; j0 += kChunk) {
    float s[kChunk];
#pragma unroll
    for (int c = 0; c < kChunk; ++c) {
      float kr[N];
      const bool live = j0 + c <= i;
      if (live) load_row(kr, k_seq + (j0 + c) * kv_stride, d, lane);
      s[c] = live ? partial_dot(qr, kr) : 0.0f;
    }
    warp_reduce_sum4(s);  // every lane reduces (dead keys give 0), so the shuffles stay converged
#pragma unroll
    for (int c = 0; c < kChunk; ++c) s[c] = j0 + c <= i ? s[c] * scale_log2 : -INFINITY;
    float mx = m;
#pragma unroll
    for (int c = 0; c < kChunk; ++c) mx = fmaxf(mx, s[c]);
    const float corr = exp2f(m - mx);  // 0 on the first chunk (m = -inf); mx is finite: key j0 <= i is live
    m = mx;
    l *= corr;
#pragma unroll
    for (int e = 0; e < N; ++e) o[e] *= corr;
#pragma unroll
    for (int c = 0; c < kChunk; ++c) {
      if (j0 + c > i) break;
      const float p = exp2f(s[c] - m);
      float vr[N];
      load_row(vr, v_seq + (j0 + c) * kv_stride, d, lane);
      l += p;
#pragma unroll
      for (int e = 0; e < N; ++e) o[e] = fmaf(p, vr[e], o[e]);
    }
  }
  store_row(out + token * q_stride + int64_t(h) * d, o, 1.0f / l, d, lane);
  if (lane == 0) lse[attention_lse_index(cu_seqlens, token, b, h, heads, t_len)] = (m + log2f(l)) * kLn2;
}

// dQ of query row i, and Delta_i = dO_i . O_i into the workspace for the dK/dV kernel.
template <class T, int N>
__global__ void __launch_bounds__(kThreads)
    attention_generic_bwd_dq_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                    const T* __restrict__ out, const float* __restrict__ lse,
                                    const T* __restrict__ dout, const int32_t* __restrict__ lengths,
                                    const int32_t* __restrict__ cu_seqlens, T* __restrict__ dq,
                                    float* __restrict__ delta, int t_len, int heads, int kv_heads, int d, float scale,
                                    float scale_log2, bool left_padding) {
  kernel_launch_bounds(kThreads);
  const int lane = int(threadIdx.x) & 31;
  const int row = int(blockIdx.x) * kWarps + (int(threadIdx.x) >> 5), h = int(blockIdx.y), b = int(blockIdx.z);
  const AttnSeq seq = attention_sequence(lengths, cu_seqlens, b, t_len, heads, left_padding);
  if (row >= seq.span) return;
  const int64_t q_stride = int64_t(heads) * d, kv_stride = int64_t(kv_heads) * d;
  const int64_t q_at = (seq.slot + row) * q_stride + int64_t(h) * d;
  const int64_t lse_at = seq.lse(h, row);
  const int i = row - seq.off;
  if (i < 0 || i >= seq.len) {
    zero_row(dq + q_at, d, lane);
    if (lane == 0) delta[lse_at] = 0.0f;  // never read; written so the workspace holds no stale values
    return;
  }
  const int64_t kv0 = (seq.slot + seq.off) * kv_stride + int64_t(h / (heads / kv_heads)) * d;
  const T* k_seq = k + kv0;
  const T* v_seq = v + kv0;

  float qr[N], dor[N], acc[N];
  load_row(dor, dout + q_at, d, lane);
  load_row(acc, out + q_at, d, lane);  // O_i, only for Delta; acc becomes dQ's accumulator below
  const float dl = warp_reduce_sum(partial_dot(dor, acc));
  if (lane == 0) delta[lse_at] = dl;
  load_row(qr, q + q_at, d, lane);
#pragma unroll
  for (int e = 0; e < N; ++e) acc[e] = 0.0f;
  const float lse2 = lse[lse_at] * kLog2e;
  for (int j0 = 0; j0 <= i; j0 += kChunk) {
    float kr[kChunk][N], s[kChunk], dp[kChunk];
#pragma unroll
    for (int c = 0; c < kChunk; ++c) {
      float vr[N];
      const bool live = j0 + c <= i;
      if (live) {
        load_row(kr[c], k_seq + (j0 + c) * kv_stride, d, lane);
        load_row(vr, v_seq + (j0 + c) * kv_stride, d, lane);
      }
      s[c] = live ? partial_dot(qr, kr[c]) : 0.0f;
      dp[c] = live ? partial_dot(dor, vr) : 0.0f;
    }
    warp_reduce_sum4(s);
    warp_reduce_sum4(dp);
#pragma unroll
    for (int c = 0; c < kChunk; ++c) {
      if (j0 + c > i) break;
      const float ds = exp2f(s[c] * scale_log2 - lse2) * (dp[c] - dl);
#pragma unroll
      for (int e = 0; e < N; ++e) acc[e] = fmaf(ds, kr[c][e], acc[e]);
    }
  }
  store_row(dq + q_at, acc, scale, d, lane);
}

// dK, dV of key row j of kv head g: the group's query heads in order, queries j .. len - 1 of each.
template <class T, int N>
__global__ void __launch_bounds__(kThreads)
    attention_generic_bwd_dkdv_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                      const float* __restrict__ lse, const T* __restrict__ dout,
                                      const float* __restrict__ delta, const int32_t* __restrict__ lengths,
                                      const int32_t* __restrict__ cu_seqlens, T* __restrict__ dk, T* __restrict__ dv,
                                      int t_len, int heads, int kv_heads, int d, float scale, float scale_log2,
                                      bool left_padding) {
  kernel_launch_bounds(kThreads);
  const int lane = int(threadIdx.x) & 31;
  const int row = int(blockIdx.x) * kWarps + (int(threadIdx.x) >> 5), g = int(blockIdx.y), b = int(blockIdx.z);
  const AttnSeq seq = attention_sequence(lengths, cu_seqlens, b, t_len, heads, left_padding);
  if (row >= seq.span) return;
  const int64_t q_stride = int64_t(heads) * d, kv_stride = int64_t(kv_heads) * d;
  const int64_t kv_at = (seq.slot + row) * kv_stride + int64_t(g) * d;
  const int j = row - seq.off;
  if (j < 0 || j >= seq.len) {
    zero_row(dk + kv_at, d, lane);
    zero_row(dv + kv_at, d, lane);
    return;
  }
  const int group = heads / kv_heads;
  float kr[N], vr[N], dka[N], dva[N];
  load_row(kr, k + kv_at, d, lane);
  load_row(vr, v + kv_at, d, lane);
#pragma unroll
  for (int e = 0; e < N; ++e) dka[e] = dva[e] = 0.0f;
  for (int h = g * group; h < (g + 1) * group; ++h) {
    const T* q_seq = q + (seq.slot + seq.off) * q_stride + int64_t(h) * d;
    const T* do_seq = dout + (seq.slot + seq.off) * q_stride + int64_t(h) * d;
    const int64_t row0 = seq.lse(h, seq.off);  // lse / Delta of the sequence's query 0
    for (int i0 = j; i0 < seq.len; i0 += kChunk) {
      float qr[kChunk][N], dor[kChunk][N], s[kChunk], dp[kChunk];
#pragma unroll
      for (int c = 0; c < kChunk; ++c) {
        const bool live = i0 + c < seq.len;  // queries past the sequence end may be padding: not read
        if (live) {
          load_row(qr[c], q_seq + (i0 + c) * q_stride, d, lane);
          load_row(dor[c], do_seq + (i0 + c) * q_stride, d, lane);
        }
        s[c] = live ? partial_dot(qr[c], kr) : 0.0f;
        dp[c] = live ? partial_dot(dor[c], vr) : 0.0f;
      }
      warp_reduce_sum4(s);
      warp_reduce_sum4(dp);
#pragma unroll
      for (int c = 0; c < kChunk; ++c) {
        const int i = i0 + c;
        if (i >= seq.len) break;
        const float p = exp2f(s[c] * scale_log2 - lse[row0 + i] * kLog2e);
        const float ds = p * (dp[c] - delta[row0 + i]);
#pragma unroll
        for (int e = 0; e < N; ++e) {
          dva[e] = fmaf(p, dor[c][e], dva[e]);
          dka[e] = fmaf(ds, qr[c][e], dka[e]);
        }
      }
    }
  }
  store_row(dk + kv_at, dka, scale, d, lane);
  store_row(dv + kv_at, dva, 1.0f, d, lane);
}

// Calls fn(Width<N>{}) with the values per lane for head dim d (1..256): ceil(d / 32) rounded up to a
// power of two, so four instantiations per kernel and dtype cover every d.
template <int N>
struct Width {
  static constexpr int kN = N;
};
template <class Fn>
kstatus dispatch_width(int64_t d, Fn&& fn) {
  if (d <= 32) return fn(Width<1>{});
  if (d <= 64) return fn(Width<2>{});
  if (d <= 128) return fn(Width<4>{});
  return fn(Width<8>{});
}

// Shape, dtype, pointers and the element alignment of the storage type (the kernels access single elements).
kstatus check_generic(const std::string& op, int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d,
                      kpadding padding, kdtype dtype, const int32_t* lengths, const int32_t* cu_seqlens,
                      int64_t max_seqlen, std::initializer_list<const void*> pointers) {
  if (kstatus status = check_attention_dims(op, b, t, h, kvh, padding); status != KSTATUS_OK) return status;
  if (kstatus status = check_attention_packing(op, lengths, cu_seqlens, t, max_seqlen, padding); status != KSTATUS_OK)
    return status;
  if (d < 1 || d > kMaxD)
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "d = " + std::to_string(d) + " (1.." + std::to_string(kMaxD) + ")");
  if (dtype != kdtype::f32 && dtype != kdtype::f16 && dtype != kdtype::bf16)
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "unknown dtype " + std::to_string(int(dtype)));
  const uintptr_t align = dtype == kdtype::f32 ? 4 : 2;
  for (const void* p : pointers) {
    if (!p) return kfail(KSTATUS_INVALID_ARGUMENT, op + "a pointer is null");
    if (reinterpret_cast<uintptr_t>(p) % align != 0)
      return kfail(KSTATUS_INVALID_ARGUMENT, op + "pointers must be aligned to the element size (" +
                                                 std::to_string(align) + " bytes)");
  }
  return KSTATUS_OK;
}

float scale_or_default(float scale, int64_t d) { return scale != 0.0f ? scale : 1.0f / sqrtf(float(d)); }

}  // namespace

namespace WPM_KERNELS_NS {

kstatus attention_generic_fwd(kstream_t stream, const void* q, const void* k, const void* v,
                              const int32_t* lengths, void* out, float* lse, int64_t b, int64_t t, int64_t h,
                              int64_t kvh, int64_t d, float scale, kpadding padding, kdtype dtype,
                              const int32_t* cu_seqlens, int64_t max_seqlen) {
  const std::string op = "attention_generic_fwd: ";
  if (kstatus status = check_generic(op, b, t, h, kvh, d, padding, dtype, lengths, cu_seqlens, max_seqlen,
                                     {q, k, v, out, lse});
      status != KSTATUS_OK)
    return status;
  const int64_t rows = attention_slot_rows(cu_seqlens, t, max_seqlen);
  const dim3 grid(unsigned((rows + kWarps - 1) / kWarps), unsigned(h), unsigned(b));
  const float scale_log2 = scale_or_default(scale, d) * kLog2e;
  return klaunch_util::dispatch_dtype(op.c_str(), dtype, [&](auto tag) {
    using T = decltype(tag);
    return dispatch_width(d, [&](auto width) {
      return klaunch(attention_generic_fwd_kernel<T, decltype(width)::kN>, grid, dim3(kThreads), 0, stream,
                     static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), lengths,
                     cu_seqlens, static_cast<T*>(out), lse, int(t), int(h), int(kvh), int(d), scale_log2,
                     padding == kpadding::left);
    });
  });
}

// Delta, f32 [B, H, T] (b = 1 for a packed batch: [H, T]): the same layout as attention_bwd_workspace_bytes.
int64_t attention_generic_bwd_workspace_bytes(int64_t b, int64_t t, int64_t h) {
  return b * h * t * int64_t(sizeof(float));
}

kstatus attention_generic_bwd(kstream_t stream, const void* q, const void* k, const void* v, const void* out,
                              const float* lse, const void* dout, void* dq, void* dk, void* dv, void* workspace,
                              const int32_t* lengths, int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d,
                              float scale, kpadding padding, kdtype dtype, const int32_t* cu_seqlens,
                              int64_t max_seqlen) {
  const std::string op = "attention_generic_bwd: ";
  if (kstatus status = check_generic(op, b, t, h, kvh, d, padding, dtype, lengths, cu_seqlens, max_seqlen,
                                     {q, k, v, out, lse, dout, dq, dk, dv, workspace});
      status != KSTATUS_OK)
    return status;
  const unsigned rows = unsigned((attention_slot_rows(cu_seqlens, t, max_seqlen) + kWarps - 1) / kWarps);
  const float sc = scale_or_default(scale, d);
  const bool left = padding == kpadding::left;
  float* delta = static_cast<float*>(workspace);
  return klaunch_util::dispatch_dtype(op.c_str(), dtype, [&](auto tag) {
    using T = decltype(tag);
    return dispatch_width(d, [&](auto width) {
      constexpr int N = decltype(width)::kN;
      const auto* qt = static_cast<const T*>(q);
      const auto* kt = static_cast<const T*>(k);
      const auto* vt = static_cast<const T*>(v);
      const auto* dot = static_cast<const T*>(dout);
      // dQ first: it writes the Delta the dK/dV kernel reads (same stream, so ordered).
      if (kstatus s = klaunch(attention_generic_bwd_dq_kernel<T, N>, dim3(rows, unsigned(h), unsigned(b)),
                              dim3(kThreads), 0, stream, qt, kt, vt, static_cast<const T*>(out), lse, dot, lengths,
                              cu_seqlens, static_cast<T*>(dq), delta, int(t), int(h), int(kvh), int(d), sc,
                              sc * kLog2e, left))
        return s;
      return klaunch(attention_generic_bwd_dkdv_kernel<T, N>, dim3(rows, unsigned(kvh), unsigned(b)),
                     dim3(kThreads), 0, stream, qt, kt, vt, lse, dot, static_cast<const float*>(delta), lengths,
                     cu_seqlens, static_cast<T*>(dk), static_cast<T*>(dv), int(t), int(h), int(kvh), int(d), sc,
                     sc * kLog2e, left);
    });
  });
}

}  // namespace WPM_KERNELS_NS
