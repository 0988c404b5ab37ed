// Host-facing declarations of every kernel launcher in kernels/*.cu, shared by
// the cuda backend (the .cu files compiled by nvcc) and the emu backend (the
// same files compiled as C++ against kemu.h). Nothing here needs a CUDA
// header: the stream is CUDA's own opaque `CUstream_st*`, so a cudaStream_t
// converts implicitly, and the emulator ignores it (it runs synchronously).
//
// Every launcher checks its preconditions, launches through klaunch (kemu.h)
// and returns a kstatus; on failure klast_error() says what was wrong.
#pragma once

#include <cstdint>
#include <string>

struct CUstream_st;
using kstream_t = CUstream_st*;

enum kstatus : int {
  KSTATUS_OK = 0,
  KSTATUS_INVALID_ARGUMENT = 1,  // a precondition of the launcher (size, alignment, dtype) failed
  KSTATUS_LAUNCH_FAILED = 2,     // the launch itself failed (CUDA error, or an emulator report)
};

enum class kdtype : int { f32, f16, bf16 };

// The calling thread's message for the last failed launcher call.
inline std::string& klast_error_slot() {
  static thread_local std::string message;
  return message;
}
inline const char* klast_error() { return klast_error_slot().c_str(); }
// Kernels the calling thread has launched, counted by klaunch: a backend takes the difference across
// one launcher call to count that op's launches (a launcher may launch several kernels).
inline uint64_t& klaunch_count() {
  static thread_local uint64_t launches = 0;
  return launches;
}
inline kstatus kfail(kstatus status, std::string message) {
  klast_error_slot() = std::move(message);
  return status;
}

// 16-byte alignment: the condition of the 128-bit vector paths and a precondition of the tensor-core
// attention launchers. Here rather than in launch_util.cuh because the backends' host code asks it too
// before choosing a kernel, and that code must not see kemu.h.
inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// ---- argument types of the launchers below
enum class gelu_form : int { tanh, exact };
enum class kpadding : int { right = 0, left = 1 };
struct kadamw_tensor {
  float* param;
  const void* grad;
  float* m;
  float* v;
  void* working;  // null: no working copy
  int64_t count;
  kdtype grad_dtype, working_dtype;
  int32_t decay;  // nonzero: apply weight_decay to this tensor
  int32_t unused = 0;  // no padding: a table's bytes are its values (the device backend keys kept tables by them)
};
struct kadamw_hyper {
  float lr, beta1, beta2, eps, weight_decay, grad_scale;  // grad_scale multiplies the gradients first
  int64_t step;                                           // 1-based
  // Null, or DEVICE f32 [2]: {inf/NaN flag, L2 norm of the gradients as stored}. A nonzero flag skips the step;
  // else the gradients are clipped to max_grad_norm (when > 0) after grad_scale (adamw_grad_factor).
  const float* grad_check;
  float max_grad_norm;
  // Null, or DEVICE f32 [3]: {lr, 1/(1-beta1^step), 1/(1-beta2^step)}, read by the step in place of lr and step (a
  // recorded step reads each replay's values).
  const float* step_values;
};
// A context's device error word (value_check.cu): code 0 while no check failed, else the failed check's code
// (the backend's, never 0) with the first bad value's index and the value; a check of several rules also says
// which one failed and the second number its message names (packed_offsets.h).
struct kerror_word {
  int64_t code;
  int64_t index;
  int64_t value;
  int64_t rule;   // 0 for a range check
  int64_t other;  // the rule's second number, 0 for a range check
};
struct ktensor {
  void* data;
  int64_t count;
  kdtype dtype;
  int32_t unused = 0;  // no padding: a table's bytes are its values (the device backend keys kept tables by them)
};

// The launchers live in a namespace named by the build, so the nvcc objects (kernels_cuda) and
// the emulator's C++ objects (kernels_emu) of the same sources link into one library side by side.
#ifndef WPM_KERNELS_NS
#define WPM_KERNELS_NS kernels
#endif

// The arguments of preference_head.cu's launchers (declared below).
enum class head_act : int { gelu_tanh, gelu_exact, relu };
struct kpreference_head {
  int64_t rows, d, h, pairs;
  head_act act;
  float eps, margin, dloss;
  const void* x; const void* norm_weight; const void* w1; const void* b1; const void* w2; const void* b2;
  const float* weights;
  float* rewards; float* saved; float* loss; float* drewards;
  void* dx; void* dnorm_weight; void* dw1; void* db1; void* dw2; void* db2;
  kdtype dtype;
};

namespace WPM_KERNELS_NS {

// ---- fill.cu: every one of n elements of elem_bytes (2 or 4) bytes set to the low elem_bytes of bits.
kstatus fill_bits(kstream_t stream, void* dst, int64_t n, int elem_bytes, uint32_t bits);

// ---- gelu.cu
kstatus gelu_fwd(kstream_t stream, const void* x, void* out, int64_t n, gelu_form form, kdtype dtype);
kstatus gelu_bwd(kstream_t stream, const void* dout, const void* x, void* dx, int64_t n, gelu_form form,
                 kdtype dtype);

// ---- elementwise: swiglu.cu, relu.cu (n elements; outputs may alias inputs element by element)
kstatus swiglu_fwd(kstream_t stream, const void* gate, const void* up, void* out, int64_t n, kdtype dtype);
kstatus swiglu_bwd(kstream_t stream, const void* dout, const void* gate, const void* up, void* dgate, void* dup,
                   int64_t n, kdtype dtype);
kstatus relu_fwd(kstream_t stream, const void* x, void* out, int64_t n, kdtype dtype);
kstatus relu_bwd(kstream_t stream, const void* dout, const void* x, void* dx, int64_t n, kdtype dtype);

// ---- rmsnorm.cu: x, out, dout, dx [n, c], weight, dweight [c] in dtype, rstd f32 [n].
// The backward overwrites dx, ACCUMULATES into dweight, and needs a device workspace of
// rmsnorm_bwd_workspace_bytes(n, c) bytes (fp32 partial rows).
int64_t rmsnorm_bwd_workspace_bytes(int64_t n, int64_t c);
kstatus rmsnorm_fwd(kstream_t stream, const void* x, const void* weight, void* out, float* rstd, int64_t n, int64_t c,
                    float eps, kdtype dtype);
kstatus rmsnorm_bwd(kstream_t stream, const void* dout, const void* x, const void* weight, const float* rstd, void* dx,
                    void* dweight, void* workspace, int64_t n, int64_t c, kdtype dtype);

// ---- rope.cu: in place on x [b, t, h, d] (d even, <= 8192); positions i32 [b, t] or null (pos = t).
kstatus rope_fwd(kstream_t stream, void* x, const int32_t* positions, int64_t b, int64_t t, int64_t h, int64_t d,
                 float theta, kdtype dtype);
kstatus rope_bwd(kstream_t stream, void* dx, const int32_t* positions, int64_t b, int64_t t, int64_t h, int64_t d,
                 float theta, kdtype dtype);

// ---- last_token_pool.cu: hidden, dhidden [b, t, c], out, dout [b, c], lengths i32 [b] in 1..t.
kstatus last_token_pool_fwd(kstream_t stream, const void* hidden, const int32_t* lengths, void* out, int64_t b,
                            int64_t t, int64_t c, kpadding padding, kdtype dtype);
kstatus last_token_pool_bwd(kstream_t stream, const void* dout, const int32_t* lengths, void* dhidden, int64_t b,
                            int64_t t, int64_t c, kpadding padding, kdtype dtype);

// ---- bt_loss.cu: all f32; weights may be null (all 1).
kstatus bt_loss_fwd(kstream_t stream, const float* chosen, const float* rejected, const float* weights, float* loss,
                    int64_t pairs, float margin);
kstatus bt_loss_bwd(kstream_t stream, const float* chosen, const float* rejected, const float* weights,
                    float* dchosen, float* drejected, int64_t pairs, float margin, float dloss);

// ---- preference_head.cu: the fused head (worldpm.h, wpm_preference_head_params). x, dx [rows, d],
// norm_weight, dnorm_weight [d], w1, dw1 [h, d], b1, db1, w2, dw2 [h], b2, db2 [1] in dtype; rewards,
// drewards [rows], saved [rows, h + 1], weights [pairs] (may be null), loss [1] f32. pairs 0: no loss
// (forward) and drewards given (backward); else rows == 2 pairs. The backward overwrites dx (and
// drewards with pairs) and ACCUMULATES into the parameter gradients. One launch each.
kstatus preference_head_fwd(kstream_t stream, const kpreference_head& args);
kstatus preference_head_bwd(kstream_t stream, const kpreference_head& args);

// ---- cast.cu: dst = src converted (RNE), any direction between f32, f16, bf16; no overlap.
kstatus cast_dtype(kstream_t stream, const void* src, kdtype src_dtype, void* dst, kdtype dst_dtype, int64_t n);

// ---- embedding.cu: ids i32 [n], table, dtable [vocab, c], out, dout [n, c]; the backward accumulates.
kstatus embedding_fwd(kstream_t stream, const int32_t* ids, const void* table, void* out, int64_t n, int64_t vocab,
                      int64_t c, kdtype dtype);
// The backward sorts the tokens by id in a device workspace of embedding_bwd_workspace_bytes(n) bytes.
int64_t embedding_bwd_workspace_bytes(int64_t n);
kstatus embedding_bwd(kstream_t stream, const int32_t* ids, const void* dout, void* dtable, void* workspace,
                      int64_t n, int64_t vocab, int64_t c, kdtype dtype);

// ---- value_check.cu: every values[i] in low..high, else the first bad one into *word when word->code is 0
// (word and safe in DEVICE memory; safe may be null, else it gets the values with bad ones replaced by high).
kstatus check_values(kstream_t stream, const int32_t* values, int64_t n, int32_t low, int32_t high, int64_t code,
                     kerror_word* word, int32_t* safe);
// The offsets of a packed attention batch, cu_seqlens i32 [b + 1]: 0 first, non-decreasing, t last, no sequence
// longer than max_seqlen; else the first failing index and rule into *word when word->code is 0. safe i32 [b + 1]
// (DEVICE, not null) gets the offsets, or when any rule fails an even split of the t rows over the b sequences,
// so that the attention kernels reading it stay in bounds.
kstatus check_offsets(kstream_t stream, const int32_t* cu_seqlens, int64_t b, int32_t t, int32_t max_seqlen,
                      int64_t code, kerror_word* word, int32_t* safe);

// ---- adamw.cu: one multi-tensor step; `tensors` is a table in DEVICE memory (host_tensors: as for grad_norm.cu).
kstatus adamw_step(kstream_t stream, const kadamw_tensor* tensors, int64_t count, const kadamw_hyper& hyper,
                   const kadamw_tensor* host_tensors = nullptr);

// ---- pair_metrics.cu: metrics f32 [3] (DEVICE) += {loss[0] * pairs, count(chosen > rejected), sum(chosen -
// rejected)} with chosen = rewards[0..pairs), rejected = rewards[pairs..2 pairs).
kstatus pair_metrics(kstream_t stream, const float* rewards, const float* loss, int64_t pairs, float* metrics);

// ---- grad_norm.cu: `tensors` is a table in DEVICE memory; out and found_inf are f32 [1] device. host_tensors,
// when not null, is the same table in host memory: the launcher reads it only to state the bytes the launch must
// move (klaunch_min_bytes, for the emulator's work counters).
int64_t global_norm_workspace_bytes();
kstatus global_norm(kstream_t stream, const ktensor* tensors, int64_t count, void* workspace, float* out,
                    const ktensor* host_tensors = nullptr);
kstatus scale_check_finite(kstream_t stream, const ktensor* tensors, int64_t count, float scale, float* found_inf,
                           const ktensor* host_tensors = nullptr);

// ---- mma_probe.cu: one warp multiplies a 16x16 A (row-major [m][k]) by a 16x8 B
// (row-major [k][n]) in f16 or bf16 storage into c, f32 [16][8] row-major, through
// cp.async -> shared -> ldmatrix -> mma.sync. Rows m >= a_rows (1..16) of A are
// read as zeros (cp.async zero-fill). a and b 16-byte aligned. A building-block
// check for the attention kernel (SASS has HMMA, LDSM, LDGSTS), not a GEMM.
kstatus mma_probe(kstream_t stream, const void* a, const void* b, float* c, int a_rows, kdtype dtype);

// ---- attention.cu: causal flash attention forward (worldpm.h semantics). q, out [b, t, h, d];
// k, v [b, t, kvh, d] in f16 or bf16 (fp32 math); lse f32 [b, h, t] (natural log); lengths i32 [b]
// in 1..t or null (all t); d 64 or 128; h % kvh == 0; q, k, v, out 16-byte aligned; scale 0 means
// 1 / sqrt(d). Padding rows are never read; their out rows and lse are written 0.
// Packed batch (cu_seqlens i32 [b + 1] not null, checked by the caller: 0 first, non-decreasing, t last, no
// sequence longer than max_seqlen in 1..t): the b sequences end to end in t rows, q, out [t, h, d], k, v
// [t, kvh, d], lse [h, t]; lengths null and padding right (attention_batch.cuh).
kstatus attention_fwd(kstream_t stream, const void* q, const void* k, const void* v, const int32_t* lengths,
                      void* out, float* lse, int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d, float scale,
                      kpadding padding, kdtype dtype, const int32_t* cu_seqlens = nullptr, int64_t max_seqlen = 0);
// Backward: reads q, k, v, out, lse (from attention_fwd) and dout [b, t, h, d]; writes dq [b, t, h, d],
// dk, dv [b, t, kvh, d] whole (padding rows 0; dk/dv of a kv head sum over its h / kvh query heads in a
// fixed order, no atomics: bitwise deterministic). workspace: attention_bwd_workspace_bytes(b, t, h, kvh, d)
// bytes of device memory (Delta, f32 [b, h, t]; with GQA also the per-query-head dK, dV partials, f32);
// b = 1 for a packed batch. Same preconditions as the forward; dout, dq, dk, dv 16-byte aligned too.
int64_t attention_bwd_workspace_bytes(int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d);
kstatus attention_bwd(kstream_t stream, const void* q, const void* k, const void* v, const void* out, const float* lse,
                      const void* dout, void* dq, void* dk, void* dv, void* workspace, const int32_t* lengths,
                      int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d, float scale, kpadding padding,
                      kdtype dtype, const int32_t* cu_seqlens = nullptr, int64_t max_seqlen = 0);

// ---- attention_generic.cu: the same causal attention forward and backward (same arguments, semantics and
// outputs as attention_fwd / attention_bwd) on the CUDA cores, for what the tensor-core kernels do not cover:
// f32, f16 or bf16 storage (fp32 math) and any d in 1..256. Pointers need only the element's alignment.
// workspace: attention_generic_bwd_workspace_bytes(b, t, h) bytes (Delta, f32 [b, h, t]; b = 1 packed).
kstatus attention_generic_fwd(kstream_t stream, const void* q, const void* k, const void* v, const int32_t* lengths,
                              void* out, float* lse, int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d,
                              float scale, kpadding padding, kdtype dtype, const int32_t* cu_seqlens = nullptr,
                              int64_t max_seqlen = 0);
int64_t attention_generic_bwd_workspace_bytes(int64_t b, int64_t t, int64_t h);
kstatus attention_generic_bwd(kstream_t stream, const void* q, const void* k, const void* v, const void* out,
                              const float* lse, const void* dout, void* dq, void* dk, void* dv, void* workspace,
                              const int32_t* lengths, int64_t b, int64_t t, int64_t h, int64_t kvh, int64_t d,
                              float scale, kpadding padding, kdtype dtype, const int32_t* cu_seqlens = nullptr,
                              int64_t max_seqlen = 0);

}  // namespace WPM_KERNELS_NS
