// The device backend (device_backend.h): one Backend for cuda and emu. Each op
// picks its kernel from kernels.h, converts the C ABI's enums, sets up the
// device-memory tables and workspaces the kernel needs, and turns a kernel's
// kstatus into a wpm_status with the kernel's message.
//
// Compiled once per kernel build (WPM_KERNELS_NS); nothing here may depend on
// which one, so the emulator tests exactly the host code a GPU runs.
//
// Device memory an op needs besides its arguments (argument tables, workspaces)
// is kept by the context (KeptScratch, KeptTables) rather than allocated per
// call: an op recorded into a graph may neither allocate nor upload, and a
// training step then records once its first eager run has made them.
//
// Values that live in device memory and must be valid (token ids, row
// indices, sequence lengths, packed offsets) are never read back to be
// checked: a kernel (value_check.cu) checks them on the stream into the
// context's device error word, and the next read-back (read, synchronize)
// copies the word with its data behind the same wait and fails naming the
// op, the index and the value.
// Until then the ops run on: a bad id or length makes NaN rows (embedding,
// pooling) or is replaced by T in a checked copy (attention), bad offsets by
// all zeros in one (every sequence empty), never an access out of bounds.
#include "device_backend.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "../error.h"
#include "half.h"
#include "../random.h"
#include "../value_checks.h"
#include "dtype_conversion.h"
#include "kernels.h"

namespace wpm::WPM_KERNELS_NS {

namespace {

namespace k = ::WPM_KERNELS_NS;

kpadding to_kpadding(wpm_padding padding) { return padding == WPM_PAD_LEFT ? kpadding::left : kpadding::right; }


// Device memory an op uses for its duration, kept for the context's life and grown when an op needs more. A graph
// recorded before holds the address it was given and reads it at every replay, so an outgrown block that a capture
// handed out stays allocated too (one no capture saw is released: stream-ordered, so after the work that used it);
// and an op recorded into a graph may not allocate (the capture rules), which a kept block never does once it is
// large enough.
class KeptScratch {
 public:
  explicit KeptScratch(DevicePlatform& platform) : platform_(platform) {}
  ~KeptScratch() {
    for (void* block : blocks_) platform_.release(block);
  }
  KeptScratch(const KeptScratch&) = delete;
  KeptScratch& operator=(const KeptScratch&) = delete;

  wpm_status get(size_t bytes, void** ptr) {
    if (blocks_.empty() || bytes > bytes_) {
      void* grown = nullptr;
      if (wpm_status s = platform_.alloc(bytes == 0 ? 1 : bytes, &grown)) return s;
      if (!blocks_.empty() && !last_captured_) {
        platform_.release(blocks_.back());
        blocks_.pop_back();
      }
      blocks_.push_back(grown);
      bytes_ = bytes;
      last_captured_ = false;
    }
    last_captured_ = last_captured_ || platform_.capturing();
    *ptr = blocks_.back();
    return WPM_OK;
  }

 private:
  DevicePlatform& platform_;
  std::vector<void*> blocks_;  // smallest first; the last is handed out
  size_t bytes_ = 0;
  bool last_captured_ = false;  // the last block was handed out during a capture: a graph reads it
};

// The argument tables ops upload (AdamW's tensors, the gradient utilities' tensor lists), kept on the device by
// content: a training step passes the same tables every time, so after its first step none is uploaded or allocated
// again, and a step recorded into a graph reads the kept copies (a table first met during a capture is an upload
// there, which the capture rules refuse). At most kCapacity tables are kept, the least recently used released first;
// a graph notes the ones it reads (capture_uses), so it is refused rather than replayed over a released one.
class KeptTables {
 public:
  static constexpr size_t kCapacity = 64;

  explicit KeptTables(DevicePlatform& platform) : platform_(platform) {}
  KeptTables(const KeptTables&) = delete;
  KeptTables& operator=(const KeptTables&) = delete;

  // *table: a device copy of `host`; *owner: its allocation, for capture_uses.
  template <class T>
  wpm_status get(const std::vector<T>& host, void** table, std::shared_ptr<const void>* owner) {
    // Padding bytes hold whatever the table's construction left there, so a key over them could miss a table
    // that is kept (a new allocation in the middle of a capture, refused; seen as a rare flaky failure).
    static_assert(std::has_unique_object_representations_v<T>, "a kept table's type must have no padding");
    const auto* bytes = reinterpret_cast<const unsigned char*>(host.data());
    std::vector<unsigned char> key(bytes, bytes + host.size() * sizeof(T));
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].key != key) continue;
      std::rotate(entries_.begin() + std::ptrdiff_t(i), entries_.begin() + std::ptrdiff_t(i) + 1, entries_.end());
      return found(table, owner);
    }
    void* memory = nullptr;
    if (wpm_status s = platform_.alloc(key.empty() ? 1 : key.size(), &memory)) return s;
    DevicePlatform* platform = &platform_;
    std::shared_ptr<void> kept(memory, [platform](void* p) { platform->release(p); });
    if (wpm_status s = platform_.to_device(memory, key.data(), key.size())) return s;
    if (entries_.size() == kCapacity) entries_.erase(entries_.begin());
    entries_.push_back({std::move(key), std::move(kept)});
    return found(table, owner);
  }

 private:
  struct Entry {
    std::vector<unsigned char> key;
    std::shared_ptr<void> memory;
  };
  wpm_status found(void** table, std::shared_ptr<const void>* owner) const {
    *table = entries_.back().memory.get();
    *owner = entries_.back().memory;
    return WPM_OK;
  }

  DevicePlatform& platform_;
  std::vector<Entry> entries_;  // least recently used first
};

// A capture's platform graph, and whether it holds value checks (a replay then leaves the error word
// to be read with the next read-back, as the eager ops do).
class DeviceGraph final : public BackendGraph {
 public:
  std::unique_ptr<PlatformGraph> recorded;
  bool checks = false;
};

class DeviceBackend final : public Backend {
 public:
  explicit DeviceBackend(std::unique_ptr<DevicePlatform> platform) : platform_(std::move(platform)) {}
  ~DeviceBackend() override {
    if (error_word_ != nullptr) platform_->release(error_word_);
  }
  DeviceBackend(const DeviceBackend&) = delete;
  DeviceBackend& operator=(const DeviceBackend&) = delete;

  wpm_backend kind() const override { return platform_->kind(); }
  void* native_stream() override { return kind() == WPM_BACKEND_CUDA ? platform_->launch_stream() : nullptr; }
  int num_threads() const override { return platform_->num_threads(); }
  bool device_counters(wpm_device_counters* counters) const override {
    platform_->counters(counters);
    return true;
  }
  bool has_kernel_profile() const override { return platform_->has_kernel_profile(); }
  wpm_status kernel_profile_enable(bool on) override { return platform_->kernel_profile_enable(on); }
  wpm_status kernel_profile(std::vector<wpm_kernel_profile>* rows) override { return platform_->kernel_profile(rows); }

  // ------------------------------------------------------------------ graphs
  bool has_graphs() const override { return true; }
  bool capturing() const override { return platform_->capturing(); }
  void capture_uses(std::shared_ptr<const void> allocation) override {
    for (const auto& known : captured_allocations_)
      if (!known.owner_before(allocation) && !allocation.owner_before(known)) return;
    captured_allocations_.push_back(allocation);  // weak: a capture does not keep memory alive
  }
  wpm_status graph_capture_begin() override {
    if (wpm_status s = platform_->capture_begin()) return s;
    captured_allocations_.clear();
    checks_at_capture_ = checks_made_;
    return WPM_OK;
  }
  wpm_status graph_capture_end(std::unique_ptr<BackendGraph>* graph) override {
    auto made = std::make_unique<DeviceGraph>();
    const wpm_status s = platform_->capture_end(&made->recorded);
    std::vector<std::weak_ptr<const void>> allocations = std::move(captured_allocations_);
    captured_allocations_.clear();
    if (s != WPM_OK) return s;
    made->checks = checks_made_ != checks_at_capture_;
    made->allocations = std::move(allocations);
    *graph = std::move(made);
    return WPM_OK;
  }
  wpm_status graph_launch(const BackendGraph& graph) override {
    const auto& device_graph = static_cast<const DeviceGraph&>(graph);
    if (wpm_status s = platform_->replay(*device_graph.recorded)) return s;
    if (device_graph.checks) checks_queued_ = true;
    return WPM_OK;
  }

  bool queues_host_work() const override { return platform_->queues_host_work(); }
  wpm_status queue_host_work(std::function<wpm_status()> op) override { return platform_->queue_host_work(std::move(op)); }

  // ------------------------------------------------------------------ memory
  wpm_status alloc(size_t bytes, void** ptr) override { return platform_->alloc(bytes, ptr); }
  void release(void* ptr) override { platform_->release(ptr); }
  std::string caller_memory_problem(const void* ptr, size_t bytes) override {
    return platform_->device_memory_problem(ptr, bytes);
  }
  wpm_status write(void* dst, const void* host, size_t bytes) override { return platform_->to_device(dst, host, bytes); }
  wpm_status read(void* host, const void* src, size_t bytes) override {
    if (!checks_queued_) return platform_->to_host(host, src, bytes);
    kerror_word word{};
    const HostRead reads[] = {{host, src, bytes}, {&word, error_word_, sizeof word}};
    if (wpm_status s = platform_->to_host(reads, 2)) return s;
    return report(word);
  }
  wpm_status copy(void* dst, const void* src, size_t bytes) override { return platform_->on_device(dst, src, bytes); }
  wpm_status synchronize() override {
    if (!checks_queued_) return platform_->synchronize();
    kerror_word word{};
    if (wpm_status s = platform_->to_host(&word, error_word_, sizeof word)) return s;
    return report(word);
  }

  wpm_status fill(void* dst, wpm_dtype dtype, size_t count, double value) override {
    uint32_t bits = 0;
    switch (dtype) {
      case WPM_F32: bits = float_to_bits(float(value)); break;
      case WPM_F16: bits = float_to_f16(float(value)); break;
      case WPM_BF16: bits = float_to_bf16(float(value)); break;
      case WPM_I32: bits = uint32_t(int32_t(value)); break;
    }
    return launch("wpm_buffer_fill", [&](CUstream_st* s) {
      return k::fill_bits(s, dst, int64_t(count), int(wpm_dtype_size(dtype)), bits);
    });
  }

  // Generated on the host in chunks with the CPU backend's counter-based formulas (random.h) and
  // uploaded, so every backend stores the same bits for the same seed. Fills are for initialisation,
  // not the inner loop, so the upload is not worth a kernel.
  wpm_status fill_random(void* dst, wpm_dtype dtype, size_t count, uint64_t seed, bool normal, float a,
                         float b) override {
    constexpr size_t kChunk = size_t(1) << 16;
    const size_t elem = wpm_dtype_size(dtype);
    std::vector<unsigned char> host(kChunk * elem);
    for (size_t begin = 0; begin < count; begin += kChunk) {
      const size_t n = count - begin < kChunk ? count - begin : kChunk;
      for (size_t i = 0; i < n; ++i) {
        const uint64_t index = begin + i;
        const float v = normal ? random_normal(seed, index, a, b) : random_uniform(seed, index, a, b);
        switch (dtype) {
          case WPM_F16: store(reinterpret_cast<f16*>(host.data()), int64_t(i), v); break;
          case WPM_BF16: store(reinterpret_cast<bf16*>(host.data()), int64_t(i), v); break;
          default: store(reinterpret_cast<float*>(host.data()), int64_t(i), v); break;
        }
      }
      if (wpm_status s = platform_->to_device(static_cast<unsigned char*>(dst) + begin * elem, host.data(), n * elem))
        return s;
    }
    return WPM_OK;
  }

  // ------------------------------------------------------------------ ops
  wpm_status gemm(const GemmArgs& args) override { return platform_->gemm(args); }

  // The embedding's kernels (kernels/embedding.cu) are the row gather and the deterministic scatter-add
  // (a sort of the tokens by id in a workspace, then a segmented sum).
  wpm_status gather_rows(const RowsArgs& a) override {
    if (wpm_status s = check_index(a)) return s;
    return launch(a.function, [&](CUstream_st* s) {
      return k::embedding_fwd(s, a.index, a.src, a.dst, a.n, a.rows, a.c, to_kdtype(a.dtype));
    });
  }
  wpm_status scatter_add_rows(const RowsArgs& a) override {
    if (wpm_status s = check_index(a)) return s;
    void* workspace = nullptr;
    if (wpm_status s = scatter_workspace_.get(size_t(k::embedding_bwd_workspace_bytes(a.n)), &workspace)) return s;
    return launch(a.function, [&](CUstream_st* s) {
      return k::embedding_bwd(s, a.index, a.src, a.dst, workspace, a.n, a.rows, a.c, to_kdtype(a.dtype));
    });
  }

  wpm_status sequences_scratch(size_t bytes, void** ptr, bool* kept) override {
    *kept = true;
    return sequences_scratch_.get(bytes, ptr);
  }
  wpm_status checked_lengths(const char* function, const int32_t* lengths, int32_t* safe, int64_t b,
                             int64_t t) override {
    return queue_check({function, "lengths", nullptr, t, Wording::attention_length}, lengths, b, 1, t, safe);
  }
  // One site per op: the word carries t or max_seqlen with the rule, so a packed batch's token count (new with
  // nearly every batch) adds no site.
  wpm_status checked_offsets(const char* function, const int32_t* cu_seqlens, int32_t* safe, int64_t b, int64_t t,
                             int64_t max_seqlen) override {
    int64_t code = 0;
    if (wpm_status s = check_code({function, "cu_seqlens", nullptr, 0, Wording::offsets}, &code)) return s;
    return launch(function, [&](CUstream_st* s) {
      return k::check_offsets(s, cu_seqlens, b, int32_t(t), int32_t(max_seqlen), code, error_word_, safe);
    });
  }

  wpm_status rmsnorm_fwd(const void* x, const void* weight, void* out, float* rstd, int64_t n, int64_t c, float eps,
                         wpm_dtype dtype) override {
    return launch("wpm_rmsnorm_fwd", [&](CUstream_st* s) {
      return k::rmsnorm_fwd(s, x, weight, out, rstd, n, c, eps, to_kdtype(dtype));
    });
  }
  wpm_status rmsnorm_bwd(const void* dout, const void* x, const void* weight, const float* rstd, void* dx,
                         void* dweight, int64_t n, int64_t c, wpm_dtype dtype) override {
    void* workspace = nullptr;
    if (wpm_status s = workspace_.get(size_t(k::rmsnorm_bwd_workspace_bytes(n, c)), &workspace)) return s;
    return launch("wpm_rmsnorm_bwd", [&](CUstream_st* s) {
      return k::rmsnorm_bwd(s, dout, x, weight, rstd, dx, dweight, workspace, n, c, to_kdtype(dtype));
    });
  }

  wpm_status rope(void* x, const int32_t* positions, int64_t b, int64_t t, int64_t h, int64_t d, float theta,
                  float sign, wpm_dtype dtype) override {
    auto rotate = sign > 0 ? k::rope_fwd : k::rope_bwd;
    return launch(sign > 0 ? "wpm_rope_fwd" : "wpm_rope_bwd", [&](CUstream_st* s) {
      return rotate(s, x, positions, b, t, h, d, theta, to_kdtype(dtype));
    });
  }

  // The tensor-core flash kernels where they apply (f16/bf16, d 64 or 128, 16-byte aligned operands),
  // the CUDA-core kernels of attention_generic.cu for everything else the C ABI allows.
  wpm_status attention_fwd(const AttentionArgs& a) override {
    auto fwd = tensor_core_attention(a, false) ? k::attention_fwd : k::attention_generic_fwd;
    return launch("wpm_attention_fwd", [&](CUstream_st* s) {
      return fwd(s, a.q, a.k, a.v, a.lengths, a.out, a.lse, a.b, a.t, a.h, a.kvh, a.d, a.scale, to_kpadding(a.padding),
                 to_kdtype(a.dtype), a.cu_seqlens, a.max_seqlen);
    });
  }
  wpm_status attention_bwd(const AttentionArgs& a) override {
    const bool tensor_cores = tensor_core_attention(a, true);
    auto bwd = tensor_cores ? k::attention_bwd : k::attention_generic_bwd;
    const int64_t planes = a.cu_seqlens ? 1 : a.b;  // a packed batch's tensors are one [t, ...] plane
    const int64_t workspace_bytes = tensor_cores ? k::attention_bwd_workspace_bytes(planes, a.t, a.h, a.kvh, a.d)
                                                 : k::attention_generic_bwd_workspace_bytes(planes, a.t, a.h);
    void* workspace = nullptr;
    if (wpm_status s = workspace_.get(size_t(workspace_bytes), &workspace)) return s;
    return launch("wpm_attention_bwd", [&](CUstream_st* s) {
      return bwd(s, a.q, a.k, a.v, a.out, a.lse, a.dout, a.dq, a.dk, a.dv, workspace, a.lengths, a.b, a.t, a.h,
                 a.kvh, a.d, a.scale, to_kpadding(a.padding), to_kdtype(a.dtype), a.cu_seqlens, a.max_seqlen);
    });
  }

  wpm_status swiglu_fwd(const void* gate, const void* up, void* out, int64_t n, wpm_dtype dtype) override {
    return launch("wpm_swiglu_fwd", [&](CUstream_st* s) {
      return k::swiglu_fwd(s, gate, up, out, n, to_kdtype(dtype));
    });
  }
  wpm_status swiglu_bwd(const void* dout, const void* gate, const void* up, void* dgate, void* dup, int64_t n,
                        wpm_dtype dtype) override {
    return launch("wpm_swiglu_bwd", [&](CUstream_st* s) {
      return k::swiglu_bwd(s, dout, gate, up, dgate, dup, n, to_kdtype(dtype));
    });
  }
  wpm_status gelu_fwd(const void* x, void* out, int64_t n, wpm_gelu_kind kind, wpm_dtype dtype) override {
    return launch("wpm_gelu_fwd", [&](CUstream_st* s) {
      return k::gelu_fwd(s, x, out, n, to_form(kind), to_kdtype(dtype));
    });
  }
  wpm_status gelu_bwd(const void* dout, const void* x, void* dx, int64_t n, wpm_gelu_kind kind,
                      wpm_dtype dtype) override {
    return launch("wpm_gelu_bwd", [&](CUstream_st* s) {
      return k::gelu_bwd(s, dout, x, dx, n, to_form(kind), to_kdtype(dtype));
    });
  }
  wpm_status relu_fwd(const void* x, void* out, int64_t n, wpm_dtype dtype) override {
    return launch("wpm_relu_fwd", [&](CUstream_st* s) { return k::relu_fwd(s, x, out, n, to_kdtype(dtype)); });
  }
  wpm_status relu_bwd(const void* dout, const void* x, void* dx, int64_t n, wpm_dtype dtype) override {
    return launch("wpm_relu_bwd", [&](CUstream_st* s) { return k::relu_bwd(s, dout, x, dx, n, to_kdtype(dtype)); });
  }

  wpm_status last_token_pool_fwd(const void* hidden, const int32_t* lengths, void* out, int64_t b, int64_t t,
                                 int64_t c, wpm_padding padding, wpm_dtype dtype) override {
    if (wpm_status s = queue_check({"wpm_last_token_pool_fwd", "lengths", nullptr, t, Wording::length}, lengths, b, 1, t, nullptr))
      return s;
    return launch("wpm_last_token_pool_fwd", [&](CUstream_st* s) {
      return k::last_token_pool_fwd(s, hidden, lengths, out, b, t, c, to_kpadding(padding), to_kdtype(dtype));
    });
  }
  wpm_status last_token_pool_bwd(const void* dout, const int32_t* lengths, void* dhidden, int64_t b, int64_t t,
                                 int64_t c, wpm_padding padding, wpm_dtype dtype) override {
    if (wpm_status s = queue_check({"wpm_last_token_pool_bwd", "lengths", nullptr, t, Wording::length}, lengths, b, 1, t, nullptr))
      return s;
    return launch("wpm_last_token_pool_bwd", [&](CUstream_st* s) {
      return k::last_token_pool_bwd(s, dout, lengths, dhidden, b, t, c, to_kpadding(padding), to_kdtype(dtype));
    });
  }

  wpm_status bt_loss_fwd(const BtLossArgs& a) override {
    return launch("wpm_bt_loss_fwd", [&](CUstream_st* s) {
      return k::bt_loss_fwd(s, a.chosen, a.rejected, a.weights, a.loss, a.pairs, a.margin);
    });
  }
  wpm_status bt_loss_bwd(const BtLossArgs& a) override {
    return launch("wpm_bt_loss_bwd", [&](CUstream_st* s) {
      return k::bt_loss_bwd(s, a.chosen, a.rejected, a.weights, a.dchosen, a.drejected, a.pairs, a.margin, a.dloss);
    });
  }

  // The fused preference head: one launch each way (kernels/preference_head.cu).
  wpm_status preference_head_fwd(const PreferenceHeadArgs& a) override {
    const kpreference_head args = preference_head_args(a);
    return launch("wpm_preference_head_fwd", [&](CUstream_st* s) { return k::preference_head_fwd(s, args); });
  }
  wpm_status preference_head_bwd(const PreferenceHeadArgs& a) override {
    const kpreference_head args = preference_head_args(a);
    return launch("wpm_preference_head_bwd", [&](CUstream_st* s) { return k::preference_head_bwd(s, args); });
  }
  static kpreference_head preference_head_args(const PreferenceHeadArgs& a) {
    const head_act act = a.activation == WPM_HEAD_RELU         ? head_act::relu
                         : a.activation == WPM_HEAD_GELU_EXACT ? head_act::gelu_exact
                                                               : head_act::gelu_tanh;
    return kpreference_head{a.b,  a.d,  a.h,  a.pairs, act,      a.eps,    a.margin, a.dloss,          a.x,
                            a.norm_weight, a.w1, a.b1, a.w2, a.b2, a.weights, a.rewards, a.saved, a.loss,
                            a.drewards, a.dx, a.dnorm_weight, a.dw1, a.db1, a.dw2, a.db2, to_kdtype(a.dtype)};
  }

  wpm_status adamw_step(const AdamwArgs& a) override {
    if (a.count == 0) return WPM_OK;
    std::vector<kadamw_tensor> table(static_cast<size_t>(a.count));
    for (int64_t i = 0; i < a.count; ++i) {
      const AdamwTensor& t = a.tensors[i];
      table[size_t(i)] = {t.param, t.grad, t.m, t.v, t.working, t.count, to_kdtype(t.grad_dtype),
                          to_kdtype(t.working_dtype), t.decay ? 1 : 0};
    }
    void* device_table = nullptr;
    if (wpm_status s = kept_table(table, &device_table)) return s;
    const kadamw_hyper hyper{a.lr,   a.beta1,      a.beta2,       a.eps,        a.weight_decay,
                             a.grad_scale, a.step, a.grad_check, a.max_grad_norm, a.step_values};
    return launch("wpm_adamw_step", [&](CUstream_st* s) {
      return k::adamw_step(s, static_cast<const kadamw_tensor*>(device_table), a.count, hyper, table.data());
    });
  }

  wpm_status global_norm(const TensorRef* tensors, int64_t count, float* out) override {
    const std::vector<ktensor> table = tensor_table(tensors, count);
    void* device_table = nullptr;
    void* workspace = nullptr;
    if (wpm_status s = kept_table(table, &device_table)) return s;
    if (wpm_status s = workspace_.get(size_t(k::global_norm_workspace_bytes()), &workspace)) return s;
    return launch("wpm_global_norm", [&](CUstream_st* s) {
      return k::global_norm(s, static_cast<const ktensor*>(device_table), count, workspace, out, table.data());
    });
  }
  wpm_status pair_metrics(const float* rewards, const float* loss, int64_t pairs, float* metrics) override {
    return launch("wpm_pair_metrics", [&](CUstream_st* s) { return k::pair_metrics(s, rewards, loss, pairs, metrics); });
  }
  wpm_status scale_check_finite(const TensorRef* tensors, int64_t count, float scale, float* found_inf) override {
    const std::vector<ktensor> table = tensor_table(tensors, count);
    void* device_table = nullptr;
    if (wpm_status s = kept_table(table, &device_table)) return s;
    return launch("wpm_scale_check_finite", [&](CUstream_st* s) {
      return k::scale_check_finite(s, static_cast<const ktensor*>(device_table), count, scale, found_inf, table.data());
    });
  }

  wpm_status cast(const void* src, wpm_dtype src_dtype, void* dst, wpm_dtype dst_dtype, int64_t n) override {
    if (src_dtype == dst_dtype) return copy(dst, src, size_t(n) * wpm_dtype_size(src_dtype));
    return launch("wpm_cast", [&](CUstream_st* s) {
      return k::cast_dtype(s, src, to_kdtype(src_dtype), dst, to_kdtype(dst_dtype), n);
    });
  }

 private:
  const char* backend_name() const { return kind() == WPM_BACKEND_EMU ? "emu" : "cuda"; }

  // Runs one launcher on the platform's stream, counts the kernels it launched, and turns its kstatus into
  // a wpm_status. A kernel's precondition that the boundary does not check (alignment, a size limit) is a
  // request this backend does not support; anything else (a CUDA error, an emulator report with
  // file:line) is internal.
  template <class Launcher>
  wpm_status launch(const char* function, Launcher&& launcher) {
    const uint64_t before = klaunch_count();
    const kstatus status = launcher(platform_->launch_stream());
    platform_->count_launches(klaunch_count() - before);
    if (status == KSTATUS_OK) return WPM_OK;
    return fail(status == KSTATUS_INVALID_ARGUMENT ? WPM_ERR_UNSUPPORTED : WPM_ERR_INTERNAL, "%s (%s backend): %s",
                function, backend_name(), klast_error());
  }

  // A kept device copy of an argument table (KeptTables); a capture notes it as memory its replays read.
  template <class T>
  wpm_status kept_table(const std::vector<T>& table, void** device_table) {
    std::shared_ptr<const void> owner;
    if (wpm_status s = tables_.get(table, device_table, &owner)) return s;
    if (platform_->capturing()) capture_uses(std::move(owner));
    return WPM_OK;
  }

  static gelu_form to_form(wpm_gelu_kind kind) { return kind == WPM_GELU_EXACT ? gelu_form::exact : gelu_form::tanh; }

  static std::vector<ktensor> tensor_table(const TensorRef* tensors, int64_t count) {
    std::vector<ktensor> table(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) table[size_t(i)] = {tensors[i].data, tensors[i].count, to_kdtype(tensors[i].dtype)};
    return table;
  }

  // What a queued value check was, for the message when it fails: the op, the argument, its bound and the
  // wording (a row index: 0..bound-1 of `bound_name`; a length: 1..bound; offsets: the rule the word names).
  enum class Wording { row_index, length, attention_length, offsets };
  struct CheckSite {
    const char* function;
    const char* argument;
    const char* bound_name;  // row indices only
    int64_t bound;
    Wording wording;
    bool operator==(const CheckSite& o) const {
      return std::strcmp(function, o.function) == 0 && std::strcmp(argument, o.argument) == 0 &&
             (bound_name == o.bound_name || (bound_name && o.bound_name && std::strcmp(bound_name, o.bound_name) == 0)) &&
             bound == o.bound && wording == o.wording;
    }
  };

  wpm_status check_index(const RowsArgs& a) {
    // high is -1 for no rows: every index is bad.
    return queue_check({a.function, a.index_name, a.rows_name, a.rows, Wording::row_index}, a.index, a.n, 0, a.rows - 1, nullptr);
  }

  // Queues the check of values[0..n) against low..high into the error word under the site's code. The values
  // are i32, so a bound past the i32 range is the range's end.
  wpm_status queue_check(const CheckSite& site, const int32_t* values, int64_t n, int64_t low, int64_t high,
                         int32_t* safe) {
    if (n == 0) return WPM_OK;
    low = low < INT32_MIN ? INT32_MIN : low;
    high = high > INT32_MAX ? INT32_MAX : high;
    int64_t code = 0;
    if (wpm_status s = check_code(site, &code)) return s;
    return launch(site.function, [&](CUstream_st* s) {
      return k::check_values(s, values, n, int32_t(low), int32_t(high), code, error_word_, safe);
    });
  }

  // The code a check about to be queued writes into the error word (made and zeroed on first use): the site's
  // place in sites_ + 1, so the word's code names the op. Counts the check as queued.
  wpm_status check_code(const CheckSite& site, int64_t* code) {
    if (error_word_ == nullptr) {
      void* memory = nullptr;
      if (wpm_status s = platform_->alloc(sizeof(kerror_word), &memory)) return s;
      error_word_ = static_cast<kerror_word*>(memory);
      if (wpm_status s = clear_error_word()) return s;
    }
    size_t index = 0;
    while (index < sites_.size() && !(sites_[index] == site)) ++index;
    if (index == sites_.size()) sites_.push_back(site);
    checks_queued_ = true;
    ++checks_made_;
    *code = int64_t(index) + 1;
    return WPM_OK;
  }

  wpm_status clear_error_word() {
    static const kerror_word zero{};
    return platform_->to_device(error_word_, &zero, sizeof zero);
  }

  // After a wait that copied the word: every queued check has run. A set word fails this call naming the op.
  wpm_status report(const kerror_word& word) {
    checks_queued_ = false;
    if (word.code == 0) return WPM_OK;
    if (wpm_status s = clear_error_word()) return s;
    if (word.code < 1 || size_t(word.code) > sites_.size())
      return fail(WPM_ERR_INTERNAL, "%s backend: the device error word holds an unknown code %lld", backend_name(),
                  (long long)word.code);
    const CheckSite& site = sites_[size_t(word.code - 1)];
    static const char kFound[] = " (checked on the device; reported at the next read-back)";
    if (site.wording == Wording::length) return fail_length(site.function, word.index, word.value, site.bound, kFound);
    if (site.wording == Wording::attention_length)
      return fail_attention_length(site.function, word.index, word.value, site.bound, kFound);
    if (site.wording == Wording::offsets)
      return fail_offsets(site.function, koffsets_failure{word.index, word.rule, word.value, word.other}, kFound);
    return fail_row_index(site.function, site.argument, site.bound_name, word.index, word.value, site.bound, kFound);
  }

  // The tensor-core flash attention covers f16/bf16, d 64 and 128, 16-byte aligned operands.
  static bool tensor_core_attention(const AttentionArgs& a, bool backward) {
    if (a.dtype == WPM_F32 || (a.d != 64 && a.d != 128)) return false;
    bool aligned = aligned16(a.q) && aligned16(a.k) && aligned16(a.v) && aligned16(a.out);
    if (backward) aligned = aligned && aligned16(a.dout) && aligned16(a.dq) && aligned16(a.dk) && aligned16(a.dv);
    return aligned;
  }

  std::unique_ptr<DevicePlatform> platform_;
  kerror_word* error_word_ = nullptr;  // device memory, made by the first queued check
  KeptScratch sequences_scratch_{*platform_};  // attention's checked lengths or offsets
  KeptScratch scatter_workspace_{*platform_};  // the row scatter's sort (embedding backward)
  KeptScratch workspace_{*platform_};  // the backward's workspaces (RMSNorm, attention) and the global norm's
  KeptTables tables_{*platform_};      // AdamW's and the gradient utilities' argument tables
  bool checks_queued_ = false;         // a check ran or is queued since the word was last read
  std::vector<CheckSite> sites_;       // code - 1 -> what the check was; a few per model shape
  uint64_t checks_made_ = 0;           // value checks queued (or recorded) so far
  uint64_t checks_at_capture_ = 0;     // checks_made_ when the capture began
  std::vector<std::weak_ptr<const void>> captured_allocations_;  // while capturing, distinct owners
};

}  // namespace

std::unique_ptr<Backend> make_device_backend(std::unique_ptr<DevicePlatform> platform) {
  return std::make_unique<DeviceBackend>(std::move(platform));
}

}  // namespace wpm::WPM_KERNELS_NS
