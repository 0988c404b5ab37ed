// The CPU backend: host memory, one thread pool, OpenBLAS for GEMM (oneDNN
// for bf16 where the CPU has bf16 dot products: bf16_gemm_path.h), and
// per-op implementations spread over one file per concept in this folder
// (gelu.cpp, attention.cpp, ...), all as members of CpuBackend.
#pragma once

#include <memory>

#include "../backend.h"
#include "onednn_matmul.h"
#include "thread_pool.h"
#include "workspace.h"

namespace wpm {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads);
  ~CpuBackend() override;

  wpm_backend kind() const override { return WPM_BACKEND_CPU; }
  int num_threads() const override { return pool_.size(); }
  ThreadPool& pool() { return pool_; }

  wpm_status alloc(size_t bytes, void** ptr) override;
  void release(void* ptr) override;
  wpm_status write(void* dst, const void* host, size_t bytes) override;
  wpm_status read(void* host, const void* src, size_t bytes) override;
  wpm_status copy(void* dst, const void* src, size_t bytes) override;
  wpm_status fill(void* dst, wpm_dtype dtype, size_t count, double value) override;
  wpm_status fill_random(void* dst, wpm_dtype dtype, size_t count, uint64_t seed, bool normal, float a,
                         float b) override;
  wpm_status synchronize() override { return WPM_OK; }  // every CPU op is synchronous

  wpm_status gemm(const GemmArgs& args) override;
  wpm_status gather_rows(const RowsArgs& args) override;
  wpm_status scatter_add_rows(const RowsArgs& args) override;
  wpm_status rmsnorm_fwd(const void* x, const void* weight, void* out, float* rstd, int64_t n, int64_t c, float eps,
                         wpm_dtype dtype) override;
  wpm_status rmsnorm_bwd(const void* dout, const void* x, const void* weight, const float* rstd, void* dx,
                         void* dweight, int64_t n, int64_t c, wpm_dtype dtype) override;
  wpm_status rope(void* x, const int32_t* positions, int64_t b, int64_t t, int64_t h, int64_t d, float theta,
                  float sign, wpm_dtype dtype) override;
  wpm_status attention_fwd(const AttentionArgs& args) override;
  wpm_status attention_bwd(const AttentionArgs& args) override;
  wpm_status swiglu_fwd(const void* gate, const void* up, void* out, int64_t n, wpm_dtype dtype) override;
  wpm_status swiglu_bwd(const void* dout, const void* gate, const void* up, void* dgate, void* dup, int64_t n,
                        wpm_dtype dtype) override;
  wpm_status gelu_fwd(const void* x, void* out, int64_t n, wpm_gelu_kind kind, wpm_dtype dtype) override;
  wpm_status gelu_bwd(const void* dout, const void* x, void* dx, int64_t n, wpm_gelu_kind kind,
                      wpm_dtype dtype) override;
  wpm_status relu_fwd(const void* x, void* out, int64_t n, wpm_dtype dtype) override;
  wpm_status relu_bwd(const void* dout, const void* x, void* dx, int64_t n, wpm_dtype dtype) override;
  wpm_status checked_lengths(const char* function, const int32_t* lengths, int32_t* safe, int64_t b,
                             int64_t t) override;
  wpm_status checked_offsets(const char* function, const int32_t* cu_seqlens, int32_t* safe, int64_t b, int64_t t,
                             int64_t max_seqlen) override;
  wpm_status last_token_pool_fwd(const void* hidden, const int32_t* lengths, void* out, int64_t b, int64_t t,
                                 int64_t c, wpm_padding padding, wpm_dtype dtype) override;
  wpm_status last_token_pool_bwd(const void* dout, const int32_t* lengths, void* dhidden, int64_t b, int64_t t,
                                 int64_t c, wpm_padding padding, wpm_dtype dtype) override;
  wpm_status bt_loss_fwd(const BtLossArgs& args) override;
  wpm_status bt_loss_bwd(const BtLossArgs& args) override;
  wpm_status preference_head_fwd(const PreferenceHeadArgs& args) override;
  wpm_status preference_head_bwd(const PreferenceHeadArgs& args) override;
  wpm_status adamw_step(const AdamwArgs& args) override;
  wpm_status global_norm(const TensorRef* tensors, int64_t count, float* out) override;
  wpm_status pair_metrics(const float* rewards, const float* loss, int64_t pairs, float* metrics) override;
  wpm_status scale_check_finite(const TensorRef* tensors, int64_t count, float scale, float* found_inf) override;
  wpm_status cast(const void* src, wpm_dtype src_dtype, void* dst, wpm_dtype dst_dtype, int64_t n) override;

 private:
  ThreadPool pool_;
  Workspace workspace_;  // copies an op makes of its inputs, kept between calls (attention, row-invariant GEMM)
  std::unique_ptr<OnednnMatmul> bf16_matmul_;  // null: bf16 GEMMs take the converting path
};

// Calls fn with a typed null pointer whose type is the storage type of dtype
// (float, f16, bf16), so an op is written once as a template:
//   return dispatch_float(dtype, [&](auto tag) { using T = decltype(tag); ... });
template <class Fn>
wpm_status dispatch_float(wpm_dtype dtype, Fn&& fn);

}  // namespace wpm

#include "half.h"

namespace wpm {
template <class Fn>
wpm_status dispatch_float(wpm_dtype dtype, Fn&& fn) {
  switch (dtype) {
    case WPM_F32: return fn(float{});
    case WPM_F16: return fn(f16{});
    case WPM_BF16: return fn(bf16{});
    default: return WPM_ERR_DTYPE;  // the boundary rejects these first
  }
}
}  // namespace wpm
