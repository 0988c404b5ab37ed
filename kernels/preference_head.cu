// The fused preference head: the final RMSNorm of the scoring rows, Linear(d, h) -> act ->
// Linear(h, 1), fp32 rewards and the Bradley-Terry loss in ONE forward launch; from the loss
// (or given d loss / d reward) to every gradient in ONE backward launch.
//
//   x, dx [B, d], g, dg [d], w1, dw1 [h, d], b1, db1, w2, dw2 [h], b2, db2 [1] in T
//   (f32 / f16 / bf16); rewards, drewards [B], saved [B, h + 1], weights [P], loss [1] f32.
//   fwd:  r_b = 1 / sqrt(mean_k x_bk^2 + eps),  z_bj = sum_k w1_jk g_k x_bk,
//         hid_bj = z_bj r_b + b1_j,  reward_b = sum_j w2_j act(hid_bj) + b2
//         saved = z [B, h] then r [B]; loss as bradley_terry.cuh (rows 0..P-1 chosen, P..2P-1 rejected)
//   bwd:  dr_b from the loss (written to drewards) or given; dh_bj = dr_b w2_j act'(hid_bj)
//         dw2_j += sum_b dr_b act(hid_bj), db1_j += sum_b dh_bj, db2 += sum_b dr_b
//         dn_bk = sum_j dh_bj w1_jk, dw1_jk += g_k sum_b dh_bj x_bk r_b, dg_k += sum_b dn_bk x_bk r_b
//         dx_bk = r_b (g_k dn_bk - x_bk r_b^2 q_b / d),  q_b = sum_k dn_bk g_k x_bk = sum_j dh_bj z_bj
//   The last identity is why z is saved: the norm's row sum comes from B h numbers, so the
//   backward needs one pass over the columns, not two.
//
// Tiling: the head is small next to the model (B a batch of sequences, h = 256), and its
// loss reduces over all rows, so each direction is one block of 256 threads; rows go in tiles
// of kRows = 32 held in registers, so W1 (the op's big tensor) is read once per 32 rows.
//   fwd: per column chunk of 32, W1's [256 units x 32] tile (coalesced rows) and x's
//        [32 rows x 32] tile (times g) go to shared memory; thread j accumulates z for unit j
//        and all 32 rows in order of k. Units beyond 256 loop (x is then read again).
//   bwd: thread k owns column k (coalesced over W1, dW1, x, dx): per chunk of 256 units, the
//        block writes dh [32 rows x 256 units] to shared memory, then each thread runs over the
//        units in order, accumulating dn for its 32 rows and adding its dW1 column entry once.
//        dh is recomputed per column group of 256 (from z, B h floats: small next to W1).
// Determinism: every sum has one owner thread and a fixed order, the block reductions are
// block_reduce.cuh's; no atomics, so the bits are the same in every schedule. Gradients in
// f16/bf16 are rounded once per row tile (one tile for B <= 32).
// Cost: fwd 2 B h d FLOPs, bwd 4 B h d; bytes (DRAM, the minimum the launcher declares):
//   fwd (B d + d + h d + 2 h + 1) s + 4 B (h + 2) (+ 4 P weights + 4 loss)
//   bwd (2 B d + 3 d + 3 h d + 6 h + 2) s + 4 B (h + 2) (+ 4 B rewards + 4 P weights)
// On a GPU one block leaves the other SMs idle: fine beside a model step (W1 is 2 MB for
// d = 4096 bf16), and a split over d with a fixed-order second pass is the way out if not.
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: barriers around every shared tile; the tests run every schedule with poisoned
// shared memory and expect the same bits.
#include <type_traits>

#include "bradley_terry.cuh"
#include "gelu_math.cuh"
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;  // the forward's units per chunk and the backward's columns per group
constexpr int kRows = 32;      // rows per register tile
constexpr int kChunk = 32;     // columns per forward staging step

template <head_act A>
__device__ __forceinline__ float act_value(float v) {
  if constexpr (A == head_act::relu) return v > 0.0f ? v : 0.0f;
  else if constexpr (A == head_act::gelu_tanh) return gelu<gelu_form::tanh>(v);
  else return gelu<gelu_form::exact>(v);
}

template <head_act A>
__device__ __forceinline__ float act_slope(float v) {
  if constexpr (A == head_act::relu) return v > 0.0f ? 1.0f : 0.0f;
  else if constexpr (A == head_act::gelu_tanh) return gelu_grad<gelu_form::tanh>(v);
  else return gelu_grad<gelu_form::exact>(v);
}

// One expression for hid in both directions, so the backward sees the forward's bits.
__device__ __forceinline__ float hidden_of(float z, float r, float bias) { return fmaf(z, r, bias); }

template <head_act A>
__device__ __forceinline__ float dh_of(float dr, float w2, float hid) {
  return dr * w2 * act_slope<A>(hid);
}

template <class T, head_act A>
__global__ void __launch_bounds__(kThreads)
    preference_head_fwd_kernel(const T* __restrict__ x, const T* __restrict__ g, const T* __restrict__ w1,
                               const T* __restrict__ b1, const T* __restrict__ w2, const T* __restrict__ b2,
                               const float* __restrict__ weights, float* __restrict__ rewards,
                               float* __restrict__ saved, float* __restrict__ loss, int64_t rows, int64_t d,
                               int64_t h, int64_t pairs, float eps, float margin) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(float, w_tile, [kThreads * (kChunk + 1)]);
  EMU_SHARED(float, x_tile, [kRows * kChunk]);   // x g
  EMU_SHARED(float, sq_tile, [kRows * kChunk]);  // x, for the row norms
  EMU_SHARED(float, g_tile, [kChunk]);
  EMU_SHARED(float, row_rstd, [kRows]);
  EMU_SHARED(float, scratch, [32]);
  const int t = int(threadIdx.x);
  float* rstd = saved + rows * h;
  for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
    const int nr = int(rows - r0 < kRows ? rows - r0 : kRows);
    float reward_part[kRows];
#pragma unroll
    for (int b = 0; b < kRows; ++b) reward_part[b] = 0.0f;
    for (int64_t u0 = 0; u0 < h; u0 += kThreads) {
      const int64_t j = u0 + t;
      float acc[kRows];
#pragma unroll
      for (int b = 0; b < kRows; ++b) acc[b] = 0.0f;
      float sum_sq = 0.0f;  // row t's, on threads t < nr
      for (int64_t k0 = 0; k0 < d; k0 += kChunk) {
        const int nk = int(d - k0 < kChunk ? d - k0 : kChunk);
        __syncthreads();  // the previous chunk's tiles are consumed
        if (t < kChunk) g_tile[t] = t < nk ? to_float(g[k0 + t]) : 0.0f;
        for (int i = t; i < kThreads * kChunk; i += kThreads) {
          const int unit = i / kChunk, kk = i % kChunk;
          w_tile[unit * (kChunk + 1) + kk] = u0 + unit < h && kk < nk ? to_float(w1[(u0 + unit) * d + k0 + kk]) : 0.0f;
        }
        __syncthreads();  // g_tile is written
        for (int i = t; i < kRows * kChunk; i += kThreads) {
          const int b = i / kChunk, kk = i % kChunk;
          const float v = b < nr && kk < nk ? to_float(x[(r0 + b) * d + k0 + kk]) : 0.0f;
          sq_tile[i] = v;
          x_tile[i] = v * g_tile[kk];
        }
        __syncthreads();  // the tiles are complete
        if (u0 == 0 && t < nr)
          for (int kk = 0; kk < nk; ++kk) sum_sq += sq_tile[t * kChunk + kk] * sq_tile[t * kChunk + kk];
        if (j < h) {
          for (int kk = 0; kk < nk; ++kk) {
            const float w = w_tile[t * (kChunk + 1) + kk];
#pragma unroll
            for (int b = 0; b < kRows; ++b)
              if (b < nr) acc[b] += w * x_tile[b * kChunk + kk];
          }
          kcount_flops(uint64_t(2) * nr * nk);
        }
      }
      if (u0 == 0 && t < nr) {
        const float r = 1.0f / sqrtf(sum_sq / float(d) + eps);
        row_rstd[t] = r;
        rstd[r0 + t] = r;
      }
      __syncthreads();  // row_rstd is written
      if (j < h) {
        const float bias = to_float(b1[j]), w2j = to_float(w2[j]);
#pragma unroll
        for (int b = 0; b < kRows; ++b) {
          if (b < nr) {
            saved[(r0 + b) * h + j] = acc[b];
            reward_part[b] += w2j * act_value<A>(hidden_of(acc[b], row_rstd[b], bias));
          }
        }
      }
    }
    const float bias2 = to_float(b2[0]);
#pragma unroll
    for (int b = 0; b < kRows; ++b) {
      if (b < nr) {  // uniform across the block
        const float total = block_reduce_sum(reward_part[b], scratch);
        if (t == 0) rewards[r0 + b] = total + bias2;
      }
    }
  }
  if (pairs > 0) {
    __syncthreads();  // thread 0's rewards are visible to the block
    const float value = bt_block_loss(rewards, rewards + pairs, weights, pairs, margin, scratch);
    if (t == 0) loss[0] = value;
  }
}

template <class T, head_act A>
__global__ void __launch_bounds__(kThreads)
    preference_head_bwd_kernel(const T* __restrict__ x, const T* __restrict__ g, const T* __restrict__ w1,
                               const T* __restrict__ b1, const T* __restrict__ w2, const float* __restrict__ weights,
                               const float* __restrict__ rewards, const float* __restrict__ saved,
                               float* __restrict__ drewards, T* __restrict__ dx, T* __restrict__ dg,
                               T* __restrict__ dw1, T* __restrict__ db1, T* __restrict__ dw2, T* __restrict__ db2,
                               int64_t rows, int64_t d, int64_t h, int64_t pairs, float margin, float dloss) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(float, dh_tile, [kRows * kThreads]);
  EMU_SHARED(float, row_rstd, [kRows]);
  EMU_SHARED(float, row_dr, [kRows]);
  EMU_SHARED(float, row_q, [kRows]);
  EMU_SHARED(float, scratch, [32]);
  const int t = int(threadIdx.x);
  const float* z = saved;
  const float* rstd = saved + rows * h;
  if (pairs > 0) {
    bt_block_grad(rewards, rewards + pairs, weights, drewards, drewards + pairs, pairs, margin, dloss, scratch);
    __syncthreads();  // drewards is visible to the block
  }

  // The unit-sized gradients, over all rows in order.
  for (int64_t j = t; j < h; j += kThreads) {
    const float bias = to_float(b1[j]), w2j = to_float(w2[j]);
    float sum_w2 = 0.0f, sum_b1 = 0.0f;
    for (int64_t b = 0; b < rows; ++b) {
      const float dr = drewards[b], hid = hidden_of(z[b * h + j], rstd[b], bias);
      sum_w2 += dr * act_value<A>(hid);
      sum_b1 += dh_of<A>(dr, w2j, hid);
    }
    dw2[j] = from_float<T>(to_float(dw2[j]) + sum_w2);
    db1[j] = from_float<T>(to_float(db1[j]) + sum_b1);
  }
  if (t == 0) {
    float sum = 0.0f;
    for (int64_t b = 0; b < rows; ++b) sum += drewards[b];
    db2[0] = from_float<T>(to_float(db2[0]) + sum);
  }

  for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
    const int nr = int(rows - r0 < kRows ? rows - r0 : kRows);
    __syncthreads();  // the previous tile's row values are consumed
    if (t < nr) {
      row_rstd[t] = rstd[r0 + t];
      row_dr[t] = drewards[r0 + t];
    }
    __syncthreads();  // the row values are written
    float q_part[kRows];
#pragma unroll
    for (int b = 0; b < kRows; ++b) q_part[b] = 0.0f;
    for (int64_t j = t; j < h; j += kThreads) {
      const float bias = to_float(b1[j]), w2j = to_float(w2[j]);
#pragma unroll
      for (int b = 0; b < kRows; ++b) {
        if (b < nr) {
          const float zz = z[(r0 + b) * h + j];
          q_part[b] += dh_of<A>(row_dr[b], w2j, hidden_of(zz, row_rstd[b], bias)) * zz;
        }
      }
    }
#pragma unroll
    for (int b = 0; b < kRows; ++b) {
      if (b < nr) {  // uniform across the block
        const float total = block_reduce_sum(q_part[b], scratch);
        if (t == 0) row_q[b] = total / float(d);
      }
    }

    for (int64_t k0 = 0; k0 < d; k0 += kThreads) {
      const int64_t k = k0 + t;
      const bool column = k < d;
      const float gk = column ? to_float(g[k]) : 0.0f;
      float xn[kRows], dn[kRows];  // x_bk r_b, and d loss / d n_bk
#pragma unroll
      for (int b = 0; b < kRows; ++b) {
        xn[b] = column && b < nr ? to_float(x[(r0 + b) * d + k]) * row_rstd[b] : 0.0f;
        dn[b] = 0.0f;
      }
      for (int64_t u0 = 0; u0 < h; u0 += kThreads) {
        const int nu = int(h - u0 < kThreads ? h - u0 : kThreads);
        __syncthreads();  // the previous chunk's dh_tile is consumed (and row_q is written)
        if (t < nu) {
          const int64_t j = u0 + t;
          const float bias = to_float(b1[j]), w2j = to_float(w2[j]);
#pragma unroll
          for (int b = 0; b < kRows; ++b)
            dh_tile[b * kThreads + t] =
                b < nr ? dh_of<A>(row_dr[b], w2j, hidden_of(z[(r0 + b) * h + j], row_rstd[b], bias)) : 0.0f;
        }
        __syncthreads();  // dh_tile is complete
        if (column) {
          for (int jj = 0; jj < nu; ++jj) {
            const int64_t at = (u0 + jj) * d + k;
            const float w = to_float(w1[at]);
            float s = 0.0f;
#pragma unroll
            for (int b = 0; b < kRows; ++b) {
              if (b < nr) {
                const float dhv = dh_tile[b * kThreads + jj];
                dn[b] += dhv * w;
                s += dhv * xn[b];
              }
            }
            dw1[at] = from_float<T>(to_float(dw1[at]) + gk * s);
          }
          kcount_flops(uint64_t(4) * nr * nu);
        }
      }
      if (column) {
        float sum_g = 0.0f;
#pragma unroll
        for (int b = 0; b < kRows; ++b) {
          if (b < nr) {
            const float r = row_rstd[b];
            sum_g += dn[b] * xn[b];
            dx[(r0 + b) * d + k] = from_float<T>(r * (gk * dn[b] - xn[b] * r * row_q[b]));
          }
        }
        dg[k] = from_float<T>(to_float(dg[k]) + sum_g);
      }
    }
  }
}

uint64_t saved_bytes(int64_t rows, int64_t h) { return uint64_t(rows) * uint64_t(h + 1) * 4; }

kstatus check(const char* op, int64_t rows, int64_t d, int64_t h, int64_t pairs, bool any_null) {
  if (rows <= 0) return invalid(op, "rows = " + std::to_string(rows) + " must be positive");
  if (d <= 0) return invalid(op, "d = " + std::to_string(d) + " must be positive");
  if (h <= 0) return invalid(op, "h = " + std::to_string(h) + " must be positive");
  if (pairs != 0 && pairs * 2 != rows) return invalid(op, "pairs = " + std::to_string(pairs) + " is not rows / 2");
  return check_pointers(op, any_null);
}

template <class Fn>
kstatus dispatch_act(const char* op, head_act act, Fn&& fn) {
  switch (act) {
    case head_act::gelu_tanh: return fn(std::integral_constant<head_act, head_act::gelu_tanh>{});
    case head_act::gelu_exact: return fn(std::integral_constant<head_act, head_act::gelu_exact>{});
    case head_act::relu: return fn(std::integral_constant<head_act, head_act::relu>{});
  }
  return invalid(op, "unknown activation " + std::to_string(int(act)));
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus preference_head_fwd(kstream_t stream, const kpreference_head& a) {
  const char* op = "preference_head_fwd";
  if (kstatus s = check(op, a.rows, a.d, a.h, a.pairs,
                        !a.x || !a.norm_weight || !a.w1 || !a.b1 || !a.w2 || !a.b2 || !a.rewards || !a.saved ||
                            (a.pairs > 0 && !a.loss)))
    return s;
  return dispatch_dtype(op, a.dtype, [&](auto tag) {
    using T = decltype(tag);
    return dispatch_act(op, a.act, [&](auto act) {
      const uint64_t s = sizeof(T);
      klaunch_min_bytes((uint64_t(a.rows) * a.d + a.d + uint64_t(a.h) * a.d + 2 * a.h + 1) * s +
                        saved_bytes(a.rows, a.h) + 4 * uint64_t(a.rows) +
                        (a.pairs > 0 ? 4 + (a.weights ? 4 * uint64_t(a.pairs) : 0) : 0));
      return klaunch(preference_head_fwd_kernel<T, decltype(act)::value>, dim3(1), dim3(kThreads), 0, stream,
                     static_cast<const T*>(a.x), static_cast<const T*>(a.norm_weight), static_cast<const T*>(a.w1),
                     static_cast<const T*>(a.b1), static_cast<const T*>(a.w2), static_cast<const T*>(a.b2),
                     a.weights, a.rewards, a.saved, a.loss, a.rows, a.d, a.h, a.pairs, a.eps, a.margin);
    });
  });
}

kstatus preference_head_bwd(kstream_t stream, const kpreference_head& a) {
  const char* op = "preference_head_bwd";
  if (kstatus s = check(op, a.rows, a.d, a.h, a.pairs,
                        !a.x || !a.norm_weight || !a.w1 || !a.b1 || !a.w2 || !a.saved || !a.drewards || !a.dx ||
                            !a.dnorm_weight || !a.dw1 || !a.db1 || !a.dw2 || !a.db2 || (a.pairs > 0 && !a.rewards)))
    return s;
  return dispatch_dtype(op, a.dtype, [&](auto tag) {
    using T = decltype(tag);
    return dispatch_act(op, a.act, [&](auto act) {
      const uint64_t s = sizeof(T);
      klaunch_min_bytes((2 * uint64_t(a.rows) * a.d + 3 * uint64_t(a.d) + 3 * uint64_t(a.h) * a.d + 6 * uint64_t(a.h) + 2) * s +
                        saved_bytes(a.rows, a.h) + 4 * uint64_t(a.rows) +
                        (a.pairs > 0 ? 4 * uint64_t(a.rows) + (a.weights ? 4 * uint64_t(a.pairs) : 0) : 0));
      return klaunch(preference_head_bwd_kernel<T, decltype(act)::value>, dim3(1), dim3(kThreads), 0, stream,
                     static_cast<const T*>(a.x), static_cast<const T*>(a.norm_weight), static_cast<const T*>(a.w1),
                     static_cast<const T*>(a.b1), static_cast<const T*>(a.w2), a.weights, a.rewards, a.saved,
                     a.drewards, static_cast<T*>(a.dx), static_cast<T*>(a.dnorm_weight), static_cast<T*>(a.dw1),
                     static_cast<T*>(a.db1), static_cast<T*>(a.dw2), static_cast<T*>(a.db2), a.rows, a.d, a.h,
                     a.pairs, a.margin, a.dloss);
    });
  });
}

}  // namespace WPM_KERNELS_NS
