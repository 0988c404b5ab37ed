// The fused preference head on the CPU (wpm_preference_head_fwd / _bwd).
//
//   n_b      = x_b r_b g,  r_b = 1 / sqrt(mean(x_b^2) + eps)           (the final RMSNorm)
//   hid_bj   = w1_j . n_b + b1_j,  reward_b = sum_j w2_j act(hid_bj) + b2
//   loss     = the Bradley-Terry loss of bt_loss.cpp over (rewards[0, P), rewards[P, 2P))
// Backward, with dr_b = d loss / d reward_b (from bt_loss_bwd, or given):
//   dh_bj    = dr_b w2_j act'(hid_bj)
//   dw2_j   += sum_b dr_b act(hid_bj),  db1_j += sum_b dh_bj,  db2 += sum_b dr_b
//   dw1_jk  += sum_b dh_bj n_bk,        dn_bk  = sum_j dh_bj w1_jk
//   dg_k    += sum_b dn_bk x_bk r_b,    dx_bk  = r_b (g_k dn_bk - x_bk r_b^2 mean_k(dn_bk g_k x_bk))
//
// saved [B, h + 1] holds hid (fp32) in its first B h entries and r in the last B; the
// backward recomputes n from x, r and g rather than storing B d more floats.
//
// Storage f32/f16/bf16, fp32 math (the activation in double: B h values, nothing next to
// the products). The two weight products, B h d multiply-adds each way, are the work:
// the forward splits the units j over the threads, the backward the columns k, and every
// sum runs in a fixed order inside one thread (eight interleaved lanes for the dot
// products, combined in lane order), so the bits do not depend on the thread count.
#include <cmath>
#include <vector>

#include "cpu_backend.h"

namespace wpm {

namespace {

constexpr int kLanes = 8;         // independent partial sums of a dot product (vectorisable, fixed order)
constexpr int64_t kColumns = 256;  // columns per backward task

struct Activation {
  wpm_head_activation kind;

  double value(double v) const {
    if (kind == WPM_HEAD_RELU) return v > 0 ? v : 0;
    if (kind == WPM_HEAD_GELU_EXACT) return 0.5 * v * std::erfc(-v / std::sqrt(2.0));
    const double u = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
    return 0.5 * v * (1 + std::tanh(u));
  }
  double slope(double v) const {
    if (kind == WPM_HEAD_RELU) return v > 0 ? 1 : 0;
    if (kind == WPM_HEAD_GELU_EXACT)
      return 0.5 * std::erfc(-v / std::sqrt(2.0)) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
    const double u = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
    const double t = std::tanh(u);
    return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * std::sqrt(2.0 / M_PI) * (1 + 3 * 0.044715 * v * v);
  }
};

float dot(const float* a, const float* b, int64_t n) {
  float lane[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += a[k + l] * b[k + l];
  for (int l = 0; k < n; ++k, ++l) lane[l] += a[k] * b[k];
  float sum = 0;
  for (float v : lane) sum += v;
  return sum;
}

template <class T>
std::vector<float> widened(const T* src, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[size_t(i)] = load(src, i);
  return out;
}

template <class T>
void accumulate(T* dst, int64_t i, float add) {
  store(dst, i, load(dst, i) + add);
}

// n [B, d] = x r g in fp32, given r per row.
template <class T>
std::vector<float> normalized(const PreferenceHeadArgs& a, const float* rstd) {
  const T* x = static_cast<const T*>(a.x);
  const T* g = static_cast<const T*>(a.norm_weight);
  std::vector<float> n(static_cast<size_t>(a.b * a.d));
  for (int64_t b = 0; b < a.b; ++b)
    for (int64_t k = 0; k < a.d; ++k) n[size_t(b * a.d + k)] = load(x, b * a.d + k) * rstd[b] * load(g, k);
  return n;
}

template <class T>
void head_fwd(ThreadPool& pool, const PreferenceHeadArgs& a) {
  const T* x = static_cast<const T*>(a.x);
  const T* w1 = static_cast<const T*>(a.w1);
  float* hid = a.saved;
  float* rstd = a.saved + a.b * a.h;
  for (int64_t b = 0; b < a.b; ++b) {
    double sum_sq = 0;
    for (int64_t k = 0; k < a.d; ++k) sum_sq += double(load(x, b * a.d + k)) * load(x, b * a.d + k);
    rstd[b] = float(1.0 / std::sqrt(sum_sq / double(a.d) + double(a.eps)));
  }
  const std::vector<float> n = normalized<T>(a, rstd);
  pool.parallel_for(a.h, 8, [&](int64_t begin, int64_t end, int) {
    std::vector<float> row(static_cast<size_t>(a.d));
    for (int64_t j = begin; j < end; ++j) {
      for (int64_t k = 0; k < a.d; ++k) row[size_t(k)] = load(w1, j * a.d + k);
      const float bias = load(static_cast<const T*>(a.b1), j);
      for (int64_t b = 0; b < a.b; ++b) hid[b * a.h + j] = dot(row.data(), &n[size_t(b * a.d)], a.d) + bias;
    }
  });
  const Activation act{a.activation};
  const T* w2 = static_cast<const T*>(a.w2);
  for (int64_t b = 0; b < a.b; ++b) {
    double reward = load(static_cast<const T*>(a.b2), 0);
    for (int64_t j = 0; j < a.h; ++j) reward += double(load(w2, j)) * act.value(hid[b * a.h + j]);
    a.rewards[b] = float(reward);
  }
}

template <class T>
void head_bwd(ThreadPool& pool, const PreferenceHeadArgs& a) {
  const T* x = static_cast<const T*>(a.x);
  const T* g = static_cast<const T*>(a.norm_weight);
  const T* w1 = static_cast<const T*>(a.w1);
  const T* w2 = static_cast<const T*>(a.w2);
  const float* hid = a.saved;
  const float* rstd = a.saved + a.b * a.h;
  const Activation act{a.activation};
  const int64_t rows = a.b, d = a.d, h = a.h;

  // The head's small gradients and dh [B, h].
  std::vector<float> dh(static_cast<size_t>(rows * h));
  double db2 = 0;
  for (int64_t b = 0; b < rows; ++b) db2 += a.drewards[b];
  for (int64_t j = 0; j < h; ++j) {
    double dw2 = 0, db1 = 0;
    for (int64_t b = 0; b < rows; ++b) {
      const double v = hid[b * h + j], dr = a.drewards[b];
      const float grad = float(dr * double(load(w2, j)) * act.slope(v));
      dh[size_t(b * h + j)] = grad;
      dw2 += dr * act.value(v);
      db1 += grad;
    }
    accumulate(static_cast<T*>(a.dw2), j, float(dw2));
    accumulate(static_cast<T*>(a.db1), j, float(db1));
  }
  accumulate(static_cast<T*>(a.db2), 0, float(db2));

  // dw1 += dh^T n, by rows j.
  const std::vector<float> n = normalized<T>(a, rstd);
  pool.parallel_for(h, 8, [&](int64_t begin, int64_t end, int) {
    std::vector<float> row(static_cast<size_t>(d));
    T* dw1 = static_cast<T*>(a.dw1);
    for (int64_t j = begin; j < end; ++j) {
      for (int64_t k = 0; k < d; ++k) row[size_t(k)] = 0;
      for (int64_t b = 0; b < rows; ++b) {
        const float s = dh[size_t(b * h + j)];
        const float* nb = &n[size_t(b * d)];
        for (int64_t k = 0; k < d; ++k) row[size_t(k)] += s * nb[k];
      }
      for (int64_t k = 0; k < d; ++k) accumulate(dw1, j * d + k, row[size_t(k)]);
    }
  });

  // dn [B, d] = dh w1, by column blocks (each column's sum over j in order).
  std::vector<float> dn(static_cast<size_t>(rows * d), 0.0f);
  pool.parallel_for((d + kColumns - 1) / kColumns, 1, [&](int64_t begin, int64_t end, int) {
    float w[kColumns];
    for (int64_t block = begin; block < end; ++block) {
      const int64_t k0 = block * kColumns, width = std::min(kColumns, d - k0);
      for (int64_t j = 0; j < h; ++j) {
        for (int64_t k = 0; k < width; ++k) w[k] = load(w1, j * d + k0 + k);
        for (int64_t b = 0; b < rows; ++b) {
          const float s = dh[size_t(b * h + j)];
          float* out = &dn[size_t(b * d + k0)];
          for (int64_t k = 0; k < width; ++k) out[k] += s * w[k];
        }
      }
    }
  });

  // The norm's backward.
  std::vector<double> mean_dot(static_cast<size_t>(rows));
  for (int64_t b = 0; b < rows; ++b) {
    double sum = 0;
    for (int64_t k = 0; k < d; ++k) sum += double(dn[size_t(b * d + k)]) * load(g, k) * load(x, b * d + k);
    mean_dot[size_t(b)] = sum / double(d);
  }
  T* dx = static_cast<T*>(a.dx);
  T* dg = static_cast<T*>(a.dnorm_weight);
  for (int64_t k = 0; k < d; ++k) {
    double sum = 0;
    for (int64_t b = 0; b < rows; ++b) sum += double(dn[size_t(b * d + k)]) * load(x, b * d + k) * rstd[b];
    accumulate(dg, k, float(sum));
  }
  for (int64_t b = 0; b < rows; ++b) {
    const double r = rstd[b];
    for (int64_t k = 0; k < d; ++k)
      store(dx, b * d + k,
            float(r * (double(load(g, k)) * dn[size_t(b * d + k)] - load(x, b * d + k) * r * r * mean_dot[size_t(b)])));
  }
}

BtLossArgs loss_args(const PreferenceHeadArgs& a) {
  BtLossArgs loss{};
  loss.pairs = a.pairs;
  loss.margin = a.margin;
  loss.chosen = a.rewards;
  loss.rejected = a.rewards + a.pairs;
  loss.weights = a.weights;
  loss.loss = a.loss;
  loss.dloss = a.dloss;
  loss.dchosen = a.drewards;
  loss.drejected = a.drewards + a.pairs;
  return loss;
}

}  // namespace

wpm_status CpuBackend::preference_head_fwd(const PreferenceHeadArgs& args) {
  wpm_status status = dispatch_float(args.dtype, [&](auto tag) {
    head_fwd<decltype(tag)>(pool_, args);
    return WPM_OK;
  });
  if (status != WPM_OK || args.pairs == 0) return status;
  return bt_loss_fwd(loss_args(args));
}

wpm_status CpuBackend::preference_head_bwd(const PreferenceHeadArgs& args) {
  if (args.pairs > 0)
    if (wpm_status status = bt_loss_bwd(loss_args(args))) return status;
  return dispatch_float(args.dtype, [&](auto tag) {
    head_bwd<decltype(tag)>(pool_, args);
    return WPM_OK;
  });
}

}  // namespace wpm
