// The interface every backend (cpu, cuda, emu) implements. Entry points in
// api/ validate once and then call these with raw device pointers: inside a
// backend, inputs are trusted (docs/c-abi.md, "Validation at the boundary").
//
// A backend method returns WPM_OK or a failure set through wpm::fail (out of
// memory, a value the boundary cannot see without reading device data, such
// as a token id out of range).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "worldpm.h"

namespace wpm {

// One device-to-host copy of a batch that shares one wait (DevicePlatform::to_host).
struct HostRead {
  void* host;
  const void* src;
  size_t bytes;
};

struct GemmArgs {
  bool trans_a, trans_b;
  int64_t m, n, k, batch;
  float alpha, beta;
  const void* a; const void* b; void* c;
  int64_t lda, ldb, ldc;              // resolved: never 0
  int64_t stride_a, stride_b, stride_c;
  wpm_dtype dtype;
  bool row_invariant;                 // wpm_gemm_params.row_invariant
};

// Padded (cu_seqlens null): b sequences in slots of t rows, lengths[b] valid. Packed (cu_seqlens set,
// checked at the boundary): b sequences end to end in t rows, sequence i in rows cu_seqlens[i] ..
// cu_seqlens[i + 1] - 1, none longer than max_seqlen; lengths is then null and lse [h, t].
struct AttentionArgs {
  int64_t b, t, h, kvh, d;
  float scale;                        // resolved: never 0
  wpm_padding padding;
  const int32_t* lengths;             // padded: never null (the boundary fills all-T lengths)
  const void* q; const void* k; const void* v;
  void* out; float* lse;
  const void* dout; void* dq; void* dk; void* dv;  // backward only
  wpm_dtype dtype;
  const int32_t* cu_seqlens;  // null: padded
  int64_t max_seqlen;         // packed only
};

struct BtLossArgs {
  int64_t pairs;
  float margin;
  const float* chosen; const float* rejected; const float* weights;  // weights may be null
  float* loss;
  float dloss;
  float* dchosen; float* drejected;
};

// The fused preference head (wpm_preference_head_fwd / _bwd), checked at the boundary. x, norm_weight,
// w1, b1, w2, b2 and the parameter gradients are in dtype; rewards, saved, loss, weights, drewards f32.
// pairs 0: no loss (forward), drewards given (backward).
struct PreferenceHeadArgs {
  int64_t b, d, h, pairs;
  wpm_head_activation activation;
  float eps, margin, dloss;
  const void* x; const void* norm_weight; const void* w1; const void* b1; const void* w2; const void* b2;
  const float* weights;  // may be null
  float* rewards; float* saved; float* loss;
  float* drewards;
  void* dx; void* dnorm_weight; void* dw1; void* db1; void* dw2; void* db2;  // backward only
  wpm_dtype dtype;
};

struct AdamwTensor {
  float* param; const void* grad; float* m; float* v; void* working;  // working may be null
  int64_t count;
  wpm_dtype grad_dtype, working_dtype;
  bool decay;
};

struct AdamwArgs {
  const AdamwTensor* tensors;
  int64_t count;
  float lr, beta1, beta2, eps, weight_decay, grad_scale;
  int64_t step;
  const float* grad_check;  // null, or backend memory f32 [2]: {inf/NaN flag, gradient norm} (wpm_adamw_params)
  float max_grad_norm;
  // Null, or backend memory f32 [3]: {lr, 1/bc1, 1/bc2}, read in place of lr and step (wpm_adamw_params.step_values).
  const float* step_values;
};

// A gather or scatter-add of rows by an index in backend memory: the embedding (index = token ids,
// rows = the vocabulary) and the row ops (wpm_rows_gather / wpm_rows_scatter_add). Gather:
// dst[i] = src[index[i]], src [rows, c], dst [n, c]; scatter-add: dst[index[i]] += src[i], src [n, c],
// dst [rows, c]. function, index_name and rows_name name the caller's call and arguments in the message
// for an index outside 0..rows-1.
struct RowsArgs {
  const char* function;
  const char* index_name;
  const char* rows_name;
  const int32_t* index;
  const void* src;
  void* dst;
  int64_t n, rows, c;
  wpm_dtype dtype;
};

struct TensorRef {
  void* data;
  int64_t count;
  wpm_dtype dtype;
};

// What a graph capture recorded (wpm_graph_capture_end), in the backend's own form, with the
// allocations (each wpm_buffer's storage) its ops address: a replay after one was freed is refused.
class BackendGraph {
 public:
  virtual ~BackendGraph() = default;
  std::vector<std::weak_ptr<const void>> allocations;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual wpm_backend kind() const = 0;
  virtual int num_threads() const = 0;
  // The CUDA stream every op of this backend runs on (NCCL collectives join it); null off CUDA.
  virtual void* native_stream() { return nullptr; }
  // Fills the counts of `counters` (not its struct_size) and returns true on a device backend (cuda, emu);
  // false on cpu, which queues nothing.
  virtual bool device_counters(wpm_device_counters* counters) const { (void)counters; return false; }
  // The work counters per kernel (wpm_context_profile): on emu only; false elsewhere, and then the two calls
  // below are never made.
  virtual bool has_kernel_profile() const { return false; }
  virtual wpm_status kernel_profile_enable(bool on) { (void)on; return WPM_ERR_UNSUPPORTED; }
  virtual wpm_status kernel_profile(std::vector<wpm_kernel_profile>* rows) { (void)rows; return WPM_ERR_UNSUPPORTED; }

  // Graph capture (wpm_graph_*, on the device backends; the defaults are the cpu backend's, which has
  // none: the entry points refuse it there before calling these). While capturing, the ops are recorded
  // and Checker::buffer reports each allocation an op addresses through capture_uses.
  virtual bool has_graphs() const { return false; }
  virtual bool capturing() const { return false; }
  virtual void capture_uses(std::shared_ptr<const void> allocation) { (void)allocation; }
  virtual wpm_status graph_capture_begin() { return WPM_ERR_UNSUPPORTED; }
  virtual wpm_status graph_capture_end(std::unique_ptr<BackendGraph>* graph) { (void)graph; return WPM_ERR_UNSUPPORTED; }
  virtual wpm_status graph_launch(const BackendGraph& graph) { (void)graph; return WPM_ERR_UNSUPPORTED; }

  // Host code as stream-ordered device work (the emulator's collectives, comm/queued_exchange.h): `op` runs after
  // the work queued before it and before the work queued after it, on the thread that runs the queue, and may
  // address this backend's memory directly (it is host memory where this is offered). Its failure (status, message
  // set) is the status of the call that runs it (a read-back, synchronize), and the rest of the queue is dropped as
  // after a failed kernel; while capturing it is recorded and runs at every replay. Only emu offers it: cuda's
  // device memory is not the host's, and the cpu backend queues nothing.
  virtual bool queues_host_work() const { return false; }
  virtual wpm_status queue_host_work(std::function<wpm_status()> op) { (void)op; return WPM_ERR_UNSUPPORTED; }

  // memory
  virtual wpm_status alloc(size_t bytes, void** ptr) = 0;
  virtual void release(void* ptr) = 0;
  virtual wpm_status write(void* dst, const void* host, size_t bytes) = 0;
  virtual wpm_status read(void* host, const void* src, size_t bytes) = 0;
  virtual wpm_status copy(void* dst, const void* src, size_t bytes) = 0;
  virtual wpm_status fill(void* dst, wpm_dtype dtype, size_t count, double value) = 0;
  virtual wpm_status fill_random(void* dst, wpm_dtype dtype, size_t count, uint64_t seed, bool normal,
                                 float a, float b) = 0;
  virtual wpm_status synchronize() = 0;
  // Why [ptr, ptr + bytes) of the caller's memory cannot be handed to this backend's ops
  // (wpm_buffer_wrap), or "" when it can. The cpu backend's ops address any host memory, so
  // there is nothing it could check; the device backends override this.
  virtual std::string caller_memory_problem(const void* ptr, size_t bytes) { (void)ptr; (void)bytes; return ""; }

  // ops
  virtual wpm_status gemm(const GemmArgs& args) = 0;
  virtual wpm_status gather_rows(const RowsArgs& args) = 0;
  virtual wpm_status scatter_add_rows(const RowsArgs& args) = 0;
  virtual wpm_status rmsnorm_fwd(const void* x, const void* weight, void* out, float* rstd, int64_t n, int64_t c,
                                 float eps, wpm_dtype dtype) = 0;
  virtual wpm_status rmsnorm_bwd(const void* dout, const void* x, const void* weight, const float* rstd, void* dx,
                                 void* dweight, int64_t n, int64_t c, wpm_dtype dtype) = 0;
  // sign = +1 forward, -1 backward
  virtual wpm_status rope(void* x, const int32_t* positions, int64_t b, int64_t t, int64_t h, int64_t d,
                          float theta, float sign, wpm_dtype dtype) = 0;
  virtual wpm_status attention_fwd(const AttentionArgs& args) = 0;
  virtual wpm_status attention_bwd(const AttentionArgs& args) = 0;
  virtual wpm_status swiglu_fwd(const void* gate, const void* up, void* out, int64_t n, wpm_dtype dtype) = 0;
  virtual wpm_status swiglu_bwd(const void* dout, const void* gate, const void* up, void* dgate, void* dup,
                                int64_t n, wpm_dtype dtype) = 0;
  virtual wpm_status gelu_fwd(const void* x, void* out, int64_t n, wpm_gelu_kind kind, wpm_dtype dtype) = 0;
  virtual wpm_status gelu_bwd(const void* dout, const void* x, void* dx, int64_t n, wpm_gelu_kind kind,
                              wpm_dtype dtype) = 0;
  virtual wpm_status relu_fwd(const void* x, void* out, int64_t n, wpm_dtype dtype) = 0;
  virtual wpm_status relu_bwd(const void* dout, const void* x, void* dx, int64_t n, wpm_dtype dtype) = 0;
  // Attention's sequence lengths in backend memory, each to be in 1..t, copied into `safe` (b values, backend
  // memory) so that the op stays in bounds whatever they hold. The CPU backend checks them first and fails
  // here; a device backend queues the check (a bad length is reported at the next read-back) and replaces a
  // bad value by t in the copy.
  virtual wpm_status checked_lengths(const char* function, const int32_t* lengths, int32_t* safe, int64_t b,
                                     int64_t t) = 0;
  // The packed counterpart: a packed batch's offsets cu_seqlens (b + 1 values in backend memory) under the rules
  // of packed_offsets.h, copied into `safe` (b + 1 values). The CPU backend checks them first and fails here; a
  // device backend queues the check and reports a broken rule at the next read-back, and until then the copy
  // holds all zeros (every sequence empty: the kernels touch no row).
  virtual wpm_status checked_offsets(const char* function, const int32_t* cu_seqlens, int32_t* safe, int64_t b,
                                     int64_t t, int64_t max_seqlen) = 0;
  // Backend memory for either checked copy: a block of at least `bytes`. The default allocates one per call
  // (*kept false: the caller releases it); a device backend keeps its block, hands it to every call (*kept
  // true: stream order keeps each call's copy until its kernel has read it) and, for a larger batch, a larger
  // one, keeping the old for the graphs that recorded it; so attention allocates nothing once the batch size
  // was seen, and a graph capture may hold it.
  virtual wpm_status sequences_scratch(size_t bytes, void** ptr, bool* kept) {
    *kept = false;
    return alloc(bytes, ptr);
  }
  virtual wpm_status last_token_pool_fwd(const void* hidden, const int32_t* lengths, void* out, int64_t b,
                                         int64_t t, int64_t c, wpm_padding padding, wpm_dtype dtype) = 0;
  virtual wpm_status last_token_pool_bwd(const void* dout, const int32_t* lengths, void* dhidden, int64_t b,
                                         int64_t t, int64_t c, wpm_padding padding, wpm_dtype dtype) = 0;
  virtual wpm_status bt_loss_fwd(const BtLossArgs& args) = 0;
  virtual wpm_status bt_loss_bwd(const BtLossArgs& args) = 0;
  virtual wpm_status preference_head_fwd(const PreferenceHeadArgs& args) = 0;
  virtual wpm_status preference_head_bwd(const PreferenceHeadArgs& args) = 0;
  virtual wpm_status adamw_step(const AdamwArgs& args) = 0;
  virtual wpm_status global_norm(const TensorRef* tensors, int64_t count, float* out) = 0;
  // wpm_pair_metrics: rewards f32 [>= 2 pairs], loss f32 [1], metrics f32 [3], all in backend memory.
  virtual wpm_status pair_metrics(const float* rewards, const float* loss, int64_t pairs, float* metrics) = 0;
  virtual wpm_status scale_check_finite(const TensorRef* tensors, int64_t count, float scale, float* found_inf) = 0;
  virtual wpm_status cast(const void* src, wpm_dtype src_dtype, void* dst, wpm_dtype dst_dtype, int64_t n) = 0;
};

// Factories; each returns null and sets the error when the backend cannot start.
std::unique_ptr<Backend> make_cpu_backend(int num_threads);

}  // namespace wpm
