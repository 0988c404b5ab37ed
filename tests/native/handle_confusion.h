// Handle confusion across the whole C ABI: every handle slot worldpm.h declares
// (header_slots.h) gets, in turn, a live handle of each other kind, a freed handle
// of its own kind, a pointer the library never returned, and NULL; each must be
// WPM_ERR_INVALID_ARGUMENT naming that slot, and must leave the handle it was given
// alive (a destroy of the wrong kind destroys nothing). Every other argument of
// the call is valid: each function has an invoker that makes a valid call and asks
// the Call for the handle of each slot by the name the header gives it.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "header_slots.h"
#include "worldpm.h"

namespace wpm_test {

// One call of an entry point in which the slot named `target` gets a substitute.
class Call {
 public:
  Call(std::string target, std::function<void*()> substitute)
      : target_(std::move(target)), substitute_(std::move(substitute)) {}

  wpm_context* context(const char* name, wpm_context* valid) { return pick(name, SlotKind::context, valid); }
  wpm_buffer* buffer(const char* name, wpm_buffer* valid) { return pick(name, SlotKind::buffer, valid); }
  wpm_comm* comm(const char* name, wpm_comm* valid) { return pick(name, SlotKind::comm, valid); }
  wpm_graph* graph(const char* name, wpm_graph* valid) { return pick(name, SlotKind::graph, valid); }
  bool replaced(const char* name) const { return target_ == name; }
  // For invokers that clean up after the call: keeps the call's error before cleanup calls clear it.
  wpm_status settle(wpm_status status) {
    settled_ = true;
    error_ = wpm_last_error();
    argument_ = wpm_last_error_argument();
    return status;
  }
  std::string error() const { return settled_ ? error_ : wpm_last_error(); }
  std::string argument() const { return settled_ ? argument_ : wpm_last_error_argument(); }
  // The kind the invoker asked for under each name.
  const std::map<std::string, SlotKind>& asked() const { return asked_; }

 private:
  template <class Handle>
  Handle* pick(const char* name, SlotKind kind, Handle* valid) {
    asked_[name] = kind;
    // Made only now, so a freed handle is freed after the invoker made its own handles.
    return target_ == name ? static_cast<Handle*>(substitute_()) : valid;
  }

  std::string target_;
  std::function<void*()> substitute_;
  std::map<std::string, SlotKind> asked_;
  bool settled_ = false;
  std::string error_, argument_;
};

// Valid arguments for every entry point on one backend: a context, distinct buffers
// (no two overlap), valid ids and lengths, and a communicator where the binary has one.
class HandleFixture {
 public:
  static constexpr size_t kElements = 64;

  HandleFixture(wpm_backend backend, bool with_comm) : backend_(backend) {
    context_ = new_context();
    if (with_comm && context_ != nullptr) comm_ = new_comm();
    if (comm_ != nullptr) wpm_comm_rank(comm_, &rank_, &size_);
  }
  ~HandleFixture() {
    wpm_graph_destroy(graph_);
    wpm_comm_destroy(comm_);
    for (wpm_buffer* b : buffers_) wpm_buffer_free(b);
    wpm_context_destroy(context_);
  }
  HandleFixture(const HandleFixture&) = delete;
  HandleFixture& operator=(const HandleFixture&) = delete;

  bool ready() const { return context_ != nullptr; }
  wpm_context* context() const { return context_; }
  wpm_comm* comm() const { return comm_; }
  int32_t comm_size() const { return size_; }

  // The i-th f32 buffer of kElements elements, each 0.5.
  wpm_buffer* f32(int i) {
    while (f32_.size() <= size_t(i)) f32_.push_back(keep(filled(WPM_F32, kElements, 0.5)));
    return f32_[size_t(i)];
  }
  wpm_buffer* ones() { return ones_ ? ones_ : ones_ = keep(filled(WPM_F32, kElements, 1.0)); }
  // i32 {0, 1}: token ids of a vocabulary of 2, positions of 2 tokens.
  wpm_buffer* ids() {
    if (ids_ == nullptr) {
      ids_ = keep(filled(WPM_I32, 2, 0));
      const int32_t values[] = {0, 1};
      wpm_buffer_write(ids_, 0, values, 2);
    }
    return ids_;
  }
  // i32 {2}: one sequence of 2 tokens.
  wpm_buffer* lengths() { return lengths_ ? lengths_ : lengths_ = keep(filled(WPM_I32, 1, 2)); }
  // f32 of kElements x the communicator's size.
  wpm_buffer* per_rank() {
    return per_rank_ ? per_rank_ : per_rank_ = keep(filled(WPM_F32, kElements * size_t(size_), 0.5));
  }

  // An empty graph of the context; NULL on a backend without graphs (cpu).
  wpm_graph* graph() {
    if (graph_ == nullptr && !graphs_tried_) graph_ = new_graph();
    graphs_tried_ = true;
    return graph_;
  }

  // New handles the caller frees.
  wpm_graph* new_graph() const {
    wpm_graph* made = nullptr;
    if (wpm_graph_capture_begin(context_) != WPM_OK) return nullptr;  // the cpu backend has none
    if (wpm_graph_capture_end(context_, &made) != WPM_OK) ADD_FAILURE() << wpm_last_error();
    return made;
  }
  wpm_context* new_context() const {
    wpm_context_options options{sizeof options, backend_, 1, 0, nullptr};
    wpm_context* made = nullptr;
    if (wpm_context_create(&options, &made) != WPM_OK) ADD_FAILURE() << wpm_last_error();
    return made;
  }
  wpm_buffer* new_buffer() const { return filled(WPM_F32, kElements, 0.5); }
  wpm_comm* new_comm() const {
    wpm_comm* made = nullptr;
    if (wpm_comm_create(context_, nullptr, &made) != WPM_OK) ADD_FAILURE() << wpm_last_error();
    return made;
  }

 private:
  wpm_buffer* filled(wpm_dtype dtype, size_t count, double value) const {
    wpm_buffer* made = nullptr;
    if (wpm_buffer_alloc(context_, dtype, count, &made) != WPM_OK || wpm_buffer_fill(made, value) != WPM_OK)
      ADD_FAILURE() << wpm_last_error();
    return made;
  }
  wpm_buffer* keep(wpm_buffer* buffer) {
    buffers_.push_back(buffer);
    return buffer;
  }

  wpm_backend backend_;
  wpm_context* context_ = nullptr;
  wpm_comm* comm_ = nullptr;
  wpm_graph* graph_ = nullptr;
  bool graphs_tried_ = false;
  int32_t rank_ = 0, size_ = 1;
  std::vector<wpm_buffer*> buffers_, f32_;
  wpm_buffer *ones_ = nullptr, *ids_ = nullptr, *lengths_ = nullptr, *per_rank_ = nullptr;
};

using Invoker = std::function<wpm_status(HandleFixture&, Call&)>;

// Valid parameter structs of the ops that take one, forward or backward fields set; each handle
// asked for under its field's name.
template <class Params>
Params sized() {
  Params p{};
  p.struct_size = sizeof p;
  return p;
}

inline wpm_rmsnorm_params rmsnorm_params(HandleFixture& f, Call& c, bool backward) {
  auto p = sized<wpm_rmsnorm_params>();
  p.n = 2, p.c = 4, p.eps = 1e-6f;
  p.x = c.buffer("x", f.f32(0)), p.weight = c.buffer("weight", f.f32(1)), p.rstd = c.buffer("rstd", f.f32(3));
  if (!backward) p.out = c.buffer("out", f.f32(2));
  if (backward)
    p.dout = c.buffer("dout", f.f32(4)), p.dx = c.buffer("dx", f.f32(5)), p.dweight = c.buffer("dweight", f.f32(6));
  return p;
}

inline wpm_rope_params rope_params(HandleFixture& f, Call& c, bool backward) {
  auto p = sized<wpm_rope_params>();
  p.b = 1, p.t = 2, p.h = 1, p.d = 4, p.theta = 1e4f;
  p.positions = c.buffer("positions", f.ids());
  (backward ? p.dx : p.x) = c.buffer(backward ? "dx" : "x", f.f32(0));
  return p;
}

inline wpm_attention_params attention_params(HandleFixture& f, Call& c, bool backward) {
  auto p = sized<wpm_attention_params>();
  p.b = 1, p.t = 2, p.h = 1, p.kvh = 1, p.d = 4;
  if (c.replaced("cu_seqlens")) {
    // A packed batch (lengths NULL): the offsets' slot; its valid value is never reached.
    p.cu_seqlens = c.buffer("cu_seqlens", f.ids());
    p.max_seqlen = 2;
  } else {
    p.lengths = c.buffer("lengths", f.lengths());
  }
  p.q = c.buffer("q", f.f32(0)), p.k = c.buffer("k", f.f32(1)), p.v = c.buffer("v", f.f32(2));
  p.out = c.buffer("out", f.f32(3)), p.lse = c.buffer("lse", f.f32(4));
  if (backward) {
    p.dout = c.buffer("dout", f.f32(5));
    p.dq = c.buffer("dq", f.f32(6)), p.dk = c.buffer("dk", f.f32(7)), p.dv = c.buffer("dv", f.f32(8));
  }
  return p;
}

inline wpm_last_token_pool_params pool_params(HandleFixture& f, Call& c, bool backward) {
  auto p = sized<wpm_last_token_pool_params>();
  p.b = 1, p.t = 2, p.c = 4;
  p.lengths = c.buffer("lengths", f.lengths());
  if (!backward) p.hidden = c.buffer("hidden", f.f32(0)), p.out = c.buffer("out", f.f32(1));
  if (backward) p.dout = c.buffer("dout", f.f32(0)), p.dhidden = c.buffer("dhidden", f.f32(1));
  return p;
}

// Two rows [2, 4] picked into two rows [2, 4] by ids() = {0, 1}.
inline wpm_rows_params rows_params(HandleFixture& f, Call& c, bool /*scatter*/) {
  auto p = sized<wpm_rows_params>();
  p.n = 2, p.r = 2, p.c = 4;
  p.index = c.buffer("index", f.ids());
  p.src = c.buffer("src", f.f32(0)), p.dst = c.buffer("dst", f.f32(1));
  return p;
}

inline wpm_bt_loss_params bt_loss_params(HandleFixture& f, Call& c, bool backward) {
  auto p = sized<wpm_bt_loss_params>();
  p.pairs = 2, p.dloss = 1;
  p.chosen = c.buffer("chosen", f.f32(0)), p.rejected = c.buffer("rejected", f.f32(1));
  p.weights = c.buffer("weights", f.ones());
  if (!backward) p.loss = c.buffer("loss", f.f32(2));
  if (backward) p.dchosen = c.buffer("dchosen", f.f32(3)), p.drejected = c.buffer("drejected", f.f32(4));
  return p;
}

// One pair (b = 2) of rows of width 4 through a head of width 4.
inline wpm_preference_head_params preference_head_params(HandleFixture& f, Call& c, bool backward) {
  auto p = sized<wpm_preference_head_params>();
  p.b = 2, p.d = 4, p.h = 4, p.pairs = 1, p.activation = WPM_HEAD_GELU_TANH, p.eps = 1e-6f, p.dloss = 1;
  p.x = c.buffer("x", f.f32(0)), p.norm_weight = c.buffer("norm_weight", f.f32(1));
  p.w1 = c.buffer("w1", f.f32(2)), p.b1 = c.buffer("b1", f.f32(3));
  p.w2 = c.buffer("w2", f.f32(4)), p.b2 = c.buffer("b2", f.f32(5));
  p.weights = c.buffer("weights", f.ones());
  p.rewards = c.buffer("rewards", f.f32(6)), p.saved = c.buffer("saved", f.f32(7));
  if (!backward) p.loss = c.buffer("loss", f.f32(8));
  if (backward) {
    p.drewards = c.buffer("drewards", f.f32(9)), p.dx = c.buffer("dx", f.f32(10));
    p.dnorm_weight = c.buffer("dnorm_weight", f.f32(11)), p.dw1 = c.buffer("dw1", f.f32(12));
    p.db1 = c.buffer("db1", f.f32(13)), p.dw2 = c.buffer("dw2", f.f32(14)), p.db2 = c.buffer("db2", f.f32(15));
  }
  return p;
}

// An op taking (context, params): the struct from make, the context asked for as "context".
template <class Params>
Invoker struct_op(wpm_status (*op)(wpm_context*, const Params*), Params (*make)(HandleFixture&, Call&, bool),
                  bool backward) {
  return [op, make, backward](HandleFixture& f, Call& c) {
    const Params p = make(f, c, backward);
    return op(c.context("context", f.context()), &p);
  };
}

// A valid call of every entry point that takes a handle, by function name.
inline const std::map<std::string, Invoker>& invokers() {
  using F = HandleFixture;
  static const std::map<std::string, Invoker> table = {
      // ---- contexts
      {"wpm_context_destroy",
       [](F& f, Call& c) {
         wpm_context* own = f.new_context();
         wpm_status s = c.settle(wpm_context_destroy(c.context("context", own)));
         if (c.replaced("context")) wpm_context_destroy(own);
         return s;
       }},
      {"wpm_context_backend",
       [](F& f, Call& c) {
         wpm_backend backend;
         return wpm_context_backend(c.context("context", f.context()), &backend);
       }},
      {"wpm_context_num_threads",
       [](F& f, Call& c) {
         int32_t threads;
         return wpm_context_num_threads(c.context("context", f.context()), &threads);
       }},
      {"wpm_synchronize", [](F& f, Call& c) { return wpm_synchronize(c.context("context", f.context())); }},
      {"wpm_context_device_counters",
       [](F& f, Call& c) {
         wpm_device_counters counters{};
         counters.struct_size = sizeof counters;
         const wpm_status s = wpm_context_device_counters(c.context("context", f.context()), &counters);
         // A live cpu context has no device counters: that refusal is the backend's, not the handle's.
         return s == WPM_ERR_UNSUPPORTED && !c.replaced("context") ? WPM_OK : s;
       }},
      // A live cpu context has no work counters: that refusal, too, is the backend's.
      {"wpm_context_profile",
       [](F& f, Call& c) {
         const wpm_status s = wpm_context_profile(c.context("context", f.context()), 0);
         return s == WPM_ERR_UNSUPPORTED && !c.replaced("context") ? WPM_OK : s;
       }},
      // The graph calls on a live cpu context refuse graphs: that refusal is the backend's, not the handle's.
      {"wpm_graph_capture_begin",
       [](F& f, Call& c) {
         wpm_status s = c.settle(wpm_graph_capture_begin(c.context("context", f.context())));
         if (s == WPM_ERR_UNSUPPORTED && !c.replaced("context")) return WPM_OK;
         if (s == WPM_OK) {
           wpm_graph* made = nullptr;
           wpm_graph_capture_end(f.context(), &made);
           wpm_graph_destroy(made);
         }
         return s;
       }},
      {"wpm_graph_capture_end",
       [](F& f, Call& c) {
         const bool started = wpm_graph_capture_begin(f.context()) == WPM_OK;
         wpm_graph* made = nullptr;
         wpm_status s = c.settle(wpm_graph_capture_end(c.context("context", f.context()), &made));
         wpm_graph_destroy(made);
         if (started && c.replaced("context")) {  // end the capture the wrong handle did not
           wpm_graph_capture_end(f.context(), &made);
           wpm_graph_destroy(made);
         }
         return s == WPM_ERR_UNSUPPORTED && !started && !c.replaced("context") ? WPM_OK : s;
       }},
      {"wpm_graph_launch",
       [](F& f, Call& c) {
         wpm_graph* graph = f.graph();
         wpm_context* context = c.context("context", f.context());
         wpm_graph* given = c.graph("graph", graph);
         if (graph == nullptr && !c.replaced("graph") && !c.replaced("context")) return WPM_OK;  // cpu: no graph
         return wpm_graph_launch(context, given);
       }},
      {"wpm_graph_destroy",
       [](F& f, Call& c) {
         wpm_graph* own = f.new_graph();
         wpm_status s = c.settle(wpm_graph_destroy(c.graph("graph", own)));
         if (c.replaced("graph")) wpm_graph_destroy(own);
         return s;
       }},
      {"wpm_context_profile_kernels",
       [](F& f, Call& c) {
         size_t count = 0;
         const wpm_status s = wpm_context_profile_kernels(c.context("context", f.context()), nullptr, 0, &count);
         return s == WPM_ERR_UNSUPPORTED && !c.replaced("context") ? WPM_OK : s;
       }},
      // ---- memory
      {"wpm_buffer_alloc",
       [](F& f, Call& c) {
         wpm_buffer* made = nullptr;
         wpm_status s = c.settle(wpm_buffer_alloc(c.context("context", f.context()), WPM_F32, 4, &made));
         wpm_buffer_free(made);
         return s;
       }},
      {"wpm_buffer_view",
       [](F& f, Call& c) {
         wpm_buffer* made = nullptr;
         wpm_status s = c.settle(wpm_buffer_view(c.buffer("parent", f.f32(0)), 1, 2, &made));
         wpm_buffer_free(made);
         return s;
       }},
      {"wpm_buffer_free",
       [](F& f, Call& c) {
         wpm_buffer* own = f.new_buffer();
         wpm_status s = c.settle(wpm_buffer_free(c.buffer("buffer", own)));
         if (c.replaced("buffer")) wpm_buffer_free(own);
         return s;
       }},
      {"wpm_buffer_wrap",
       [](F& f, Call& c) {
         void* memory = nullptr;  // the backend's own memory, valid to wrap on cpu and emu alike
         wpm_buffer_device_pointer(f.f32(0), &memory);
         wpm_buffer* made = nullptr;
         wpm_status s = c.settle(wpm_buffer_wrap(c.context("context", f.context()), WPM_F32, memory, 4, &made));
         wpm_buffer_free(made);
         return s;
       }},
      {"wpm_buffer_device_pointer",
       [](F& f, Call& c) {
         void* pointer;
         return wpm_buffer_device_pointer(c.buffer("buffer", f.f32(0)), &pointer);
       }},
      {"wpm_buffer_info",
       [](F& f, Call& c) {
         wpm_dtype dtype;
         size_t count;
         return wpm_buffer_info(c.buffer("buffer", f.f32(0)), &dtype, &count);
       }},
      {"wpm_buffer_write",
       [](F& f, Call& c) {
         const float host[2] = {0.5f, 0.5f};
         return wpm_buffer_write(c.buffer("buffer", f.f32(0)), 0, host, 2);
       }},
      {"wpm_buffer_read",
       [](F& f, Call& c) {
         float host[2];
         return wpm_buffer_read(c.buffer("buffer", f.f32(0)), 0, host, 2);
       }},
      {"wpm_buffer_copy",
       [](F& f, Call& c) { return wpm_buffer_copy(c.buffer("dst", f.f32(0)), c.buffer("src", f.f32(1))); }},
      {"wpm_buffer_fill", [](F& f, Call& c) { return wpm_buffer_fill(c.buffer("buffer", f.f32(0)), 0.5); }},
      {"wpm_fill_uniform",
       [](F& f, Call& c) { return wpm_fill_uniform(c.buffer("buffer", f.f32(0)), 1, 0.0f, 1.0f); }},
      {"wpm_fill_normal", [](F& f, Call& c) { return wpm_fill_normal(c.buffer("buffer", f.f32(0)), 1, 0.0f, 1.0f); }},
      // ---- ops
      {"wpm_gemm",
       [](F& f, Call& c) {
         auto p = sized<wpm_gemm_params>();
         p.m = p.n = p.k = 2, p.batch = 1, p.alpha = 1;
         p.a = c.buffer("a", f.f32(0)), p.b = c.buffer("b", f.f32(1)), p.c = c.buffer("c", f.f32(2));
         return wpm_gemm(c.context("context", f.context()), &p);
       }},
      {"wpm_embedding_fwd",
       [](F& f, Call& c) {
         return wpm_embedding_fwd(c.context("context", f.context()), c.buffer("ids", f.ids()),
                                  c.buffer("table", f.f32(0)), c.buffer("out", f.f32(1)), 2, 2, 4);
       }},
      {"wpm_embedding_bwd",
       [](F& f, Call& c) {
         return wpm_embedding_bwd(c.context("context", f.context()), c.buffer("ids", f.ids()),
                                  c.buffer("dout", f.f32(0)), c.buffer("dtable", f.f32(1)), 2, 2, 4);
       }},
      {"wpm_rmsnorm_fwd", struct_op(wpm_rmsnorm_fwd, rmsnorm_params, false)},
      {"wpm_rmsnorm_bwd", struct_op(wpm_rmsnorm_bwd, rmsnorm_params, true)},
      {"wpm_rope_fwd", struct_op(wpm_rope_fwd, rope_params, false)},
      {"wpm_rope_bwd", struct_op(wpm_rope_bwd, rope_params, true)},
      {"wpm_attention_fwd", struct_op(wpm_attention_fwd, attention_params, false)},
      {"wpm_attention_bwd", struct_op(wpm_attention_bwd, attention_params, true)},
      {"wpm_last_token_pool_fwd", struct_op(wpm_last_token_pool_fwd, pool_params, false)},
      {"wpm_last_token_pool_bwd", struct_op(wpm_last_token_pool_bwd, pool_params, true)},
      {"wpm_rows_gather", struct_op(wpm_rows_gather, rows_params, false)},
      {"wpm_rows_scatter_add", struct_op(wpm_rows_scatter_add, rows_params, true)},
      {"wpm_bt_loss_fwd", struct_op(wpm_bt_loss_fwd, bt_loss_params, false)},
      {"wpm_bt_loss_bwd", struct_op(wpm_bt_loss_bwd, bt_loss_params, true)},
      {"wpm_preference_head_fwd", struct_op(wpm_preference_head_fwd, preference_head_params, false)},
      {"wpm_preference_head_bwd", struct_op(wpm_preference_head_bwd, preference_head_params, true)},
      {"wpm_swiglu_fwd",
       [](F& f, Call& c) {
         return wpm_swiglu_fwd(c.context("context", f.context()), c.buffer("gate", f.f32(0)), c.buffer("up", f.f32(1)),
                               c.buffer("out", f.f32(2)), 8);
       }},
      {"wpm_swiglu_bwd",
       [](F& f, Call& c) {
         return wpm_swiglu_bwd(c.context("context", f.context()), c.buffer("dout", f.f32(0)),
                               c.buffer("gate", f.f32(1)), c.buffer("up", f.f32(2)), c.buffer("dgate", f.f32(3)),
                               c.buffer("dup", f.f32(4)), 8);
       }},
      {"wpm_gelu_fwd",
       [](F& f, Call& c) {
         return wpm_gelu_fwd(c.context("context", f.context()), c.buffer("x", f.f32(0)), c.buffer("out", f.f32(1)), 8,
                             WPM_GELU_TANH);
       }},
      {"wpm_gelu_bwd",
       [](F& f, Call& c) {
         return wpm_gelu_bwd(c.context("context", f.context()), c.buffer("dout", f.f32(0)), c.buffer("x", f.f32(1)),
                             c.buffer("dx", f.f32(2)), 8, WPM_GELU_TANH);
       }},
      {"wpm_relu_fwd",
       [](F& f, Call& c) {
         return wpm_relu_fwd(c.context("context", f.context()), c.buffer("x", f.f32(0)), c.buffer("out", f.f32(1)), 8);
       }},
      {"wpm_relu_bwd",
       [](F& f, Call& c) {
         return wpm_relu_bwd(c.context("context", f.context()), c.buffer("dout", f.f32(0)), c.buffer("x", f.f32(1)),
                             c.buffer("dx", f.f32(2)), 8);
       }},
      {"wpm_adamw_step",
       [](F& f, Call& c) {
         wpm_buffer* params[] = {c.buffer("params[0]", f.f32(0))};
         const wpm_buffer* grads[] = {c.buffer("grads[0]", f.f32(1))};
         wpm_buffer* m[] = {c.buffer("m[0]", f.f32(2))};
         wpm_buffer* v[] = {c.buffer("v[0]", f.f32(3))};
         wpm_buffer* working[] = {c.buffer("working[0]", f.f32(4))};
         auto p = sized<wpm_adamw_params>();
         p.tensors = 1, p.params = params, p.grads = grads, p.m = m, p.v = v, p.working = working;
         p.lr = 1e-3f, p.beta1 = 0.9f, p.beta2 = 0.999f, p.eps = 1e-8f, p.step = 1;
         p.grad_check = c.buffer("grad_check", f.f32(5)), p.max_grad_norm = 1.0f;
         p.step_values = c.buffer("step_values", f.f32(6));
         return wpm_adamw_step(c.context("context", f.context()), &p);
       }},
      {"wpm_pair_metrics",
       [](F& f, Call& c) {
         return wpm_pair_metrics(c.context("context", f.context()), c.buffer("rewards", f.f32(0)),
                                 c.buffer("loss", f.f32(1)), 2, c.buffer("metrics", f.f32(2)));
       }},
      {"wpm_global_norm",
       [](F& f, Call& c) {
         const wpm_buffer* tensors[] = {c.buffer("tensors[0]", f.f32(0))};
         return wpm_global_norm(c.context("context", f.context()), tensors, 1, c.buffer("out", f.f32(1)));
       }},
      {"wpm_scale_check_finite",
       [](F& f, Call& c) {
         wpm_buffer* tensors[] = {c.buffer("tensors[0]", f.f32(0))};
         return wpm_scale_check_finite(c.context("context", f.context()), tensors, 1, 1.0f,
                                       c.buffer("found_inf", f.f32(1)));
       }},
      {"wpm_cast",
       [](F& f, Call& c) {
         return wpm_cast(c.context("context", f.context()), c.buffer("src", f.f32(0)), c.buffer("dst", f.f32(1)), 8);
       }},
      // ---- collectives (buffers of the communicator's context)
      {"wpm_comm_create",
       [](F& f, Call& c) {
         wpm_comm* made = nullptr;
         wpm_status s = c.settle(wpm_comm_create(c.context("context", f.context()), nullptr, &made));
         wpm_comm_destroy(made);
         return s;
       }},
      {"wpm_comm_destroy",
       [](F& f, Call& c) {
         wpm_comm* own = f.comm() != nullptr ? f.new_comm() : nullptr;
         wpm_status s = c.settle(wpm_comm_destroy(c.comm("comm", own)));
         if (c.replaced("comm")) wpm_comm_destroy(own);
         return s;
       }},
      {"wpm_comm_rank",
       [](F& f, Call& c) {
         int32_t rank, size;
         return wpm_comm_rank(c.comm("comm", f.comm()), &rank, &size);
       }},
      {"wpm_all_reduce",
       [](F& f, Call& c) {
         return wpm_all_reduce(c.comm("comm", f.comm()), c.buffer("buffer", f.f32(0)), WPM_REDUCE_MEAN);
       }},
      {"wpm_all_reduce_start",
       [](F& f, Call& c) {
         wpm_buffer* buffer = c.buffer("buffer", f.f32(0));
         wpm_status s = c.settle(wpm_all_reduce_start(c.comm("comm", f.comm()), buffer, WPM_REDUCE_MEAN));
         if (s == WPM_OK) s = wpm_comm_wait(f.comm());
         return s;
       }},
      {"wpm_all_reduce_start_copy",
       [](F& f, Call& c) {
         wpm_buffer* buffer = c.buffer("buffer", f.f32(0));
         std::vector<float> copy(F::kElements);
         wpm_status s = c.settle(wpm_all_reduce_start_copy(c.comm("comm", f.comm()), buffer, WPM_REDUCE_MEAN,
                                                           copy.data(), int64_t(F::kElements)));
         if (s == WPM_OK) s = wpm_comm_wait(f.comm());
         return s;
       }},
      {"wpm_comm_wait", [](F& f, Call& c) { return wpm_comm_wait(c.comm("comm", f.comm())); }},
      {"wpm_broadcast",
       [](F& f, Call& c) { return wpm_broadcast(c.comm("comm", f.comm()), c.buffer("buffer", f.f32(0)), 0); }},
      {"wpm_all_gather",
       [](F& f, Call& c) {
         return wpm_all_gather(c.comm("comm", f.comm()), c.buffer("send", f.f32(0)), c.buffer("recv", f.per_rank()));
       }},
      {"wpm_reduce_scatter",
       [](F& f, Call& c) {
         return wpm_reduce_scatter(c.comm("comm", f.comm()), c.buffer("send", f.per_rank()),
                                   c.buffer("recv", f.f32(0)), WPM_REDUCE_SUM);
       }},
      {"wpm_barrier", [](F& f, Call& c) { return wpm_barrier(c.comm("comm", f.comm())); }},
  };
  return table;
}

// Slots where NULL is a valid value: optional arguments, and destroy/free (a no-op), as worldpm.h says.
inline bool null_allowed(const HandleSlot& slot) {
  static const std::set<std::string> optional = {"weights", "lengths", "positions", "working[0]", "cu_seqlens",
                                                 "grad_check", "step_values"};
  static const std::set<std::string> no_op = {"wpm_context_destroy", "wpm_buffer_free", "wpm_comm_destroy",
                                              "wpm_graph_destroy"};
  return optional.count(slot.argument) != 0 || no_op.count(slot.function) != 0;
}

// The collectives need a communicator before any buffer is looked at.
inline bool needs_comm(const std::string& function) {
  return function == "wpm_comm_create" || function == "wpm_comm_destroy" || function == "wpm_comm_rank" ||
         function == "wpm_comm_wait" || function == "wpm_barrier" || function == "wpm_broadcast" ||
         function.rfind("wpm_all_", 0) == 0 || function == "wpm_reduce_scatter";
}

// A pointer the library never returned, big and zeroed enough that reading it would not fault:
// only the registry may tell it from a handle.
inline void* foreign_pointer() {
  alignas(64) static unsigned char block[1024] = {};
  return block;
}

// One wrong value for a slot of some kind.
struct Substitute {
  std::string label;
  std::function<void*()> make;
  std::function<bool()> still_live;  // the handle given is alive after the call (empty: nothing to check)
};

inline std::vector<Substitute> substitutes_for(HandleFixture& f, SlotKind kind) {
  std::vector<Substitute> list;
  wpm_buffer* buffer = f.f32(0);
  if (kind != SlotKind::context)
    list.push_back({"a live context", [&f] { return static_cast<void*>(f.context()); }, [&f] {
                      wpm_backend backend;
                      return wpm_context_backend(f.context(), &backend) == WPM_OK;
                    }});
  if (kind != SlotKind::buffer)
    list.push_back({"a live buffer", [buffer] { return static_cast<void*>(buffer); }, [buffer] {
                      size_t count = 0;
                      return wpm_buffer_info(buffer, nullptr, &count) == WPM_OK && count == HandleFixture::kElements;
                    }});
  if (kind != SlotKind::comm && f.comm() != nullptr)
    list.push_back({"a live communicator", [&f] { return static_cast<void*>(f.comm()); }, [&f] {
                      int32_t rank, size;
                      return wpm_comm_rank(f.comm(), &rank, &size) == WPM_OK;
                    }});
  switch (kind) {
    case SlotKind::context:
      list.push_back({"a destroyed context", [&f] {
                        wpm_context* gone = f.new_context();
                        wpm_context_destroy(gone);
                        return static_cast<void*>(gone);
                      }, {}});
      break;
    case SlotKind::buffer:
      list.push_back({"a freed buffer", [&f] {
                        wpm_buffer* gone = f.new_buffer();
                        wpm_buffer_free(gone);
                        return static_cast<void*>(gone);
                      }, {}});
      break;
    case SlotKind::graph:
      if (f.graph() != nullptr)
        list.push_back({"a destroyed graph", [&f] {
                          wpm_graph* gone = f.new_graph();
                          wpm_graph_destroy(gone);
                          return static_cast<void*>(gone);
                        }, {}});
      break;
    case SlotKind::comm:
      if (f.comm() != nullptr)
        list.push_back({"a destroyed communicator", [&f] {
                          wpm_comm* gone = f.new_comm();
                          wpm_comm_destroy(gone);
                          return static_cast<void*>(gone);
                        }, {}});
      break;
  }
  if (kind != SlotKind::graph && f.graph() != nullptr)
    list.push_back({"a live graph", [&f] { return static_cast<void*>(f.graph()); }, [&f] {
                      return wpm_graph_launch(f.context(), f.graph()) == WPM_OK;
                    }});
  list.push_back({"a foreign pointer", [] { return foreign_pointer(); }, {}});
  list.push_back({"NULL", [] { return static_cast<void*>(nullptr); }, {}});
  return list;
}

// Runs every case the header gives; returns how many calls were checked.
inline size_t expect_every_slot_refuses_every_wrong_handle(HandleFixture& f) {
  const std::vector<HandleSlot> slots = handle_slots(read_header());
  size_t checked = 0;
  std::set<std::string> baselined;
  // A forward and its backward share a struct and read different fields: each field must be read by one.
  std::map<std::string, bool> field_read;
  for (const HandleSlot& slot : slots) {
    SCOPED_TRACE(slot.function + "(" + slot.argument + ")");
    auto invoker = invokers().find(slot.function);
    if (invoker == invokers().end()) {
      ADD_FAILURE() << "no invoker for " << slot.function << ", which takes a handle";
      continue;
    }
    const bool comm_missing = needs_comm(slot.function) && f.comm() == nullptr;
    if (comm_missing && slot.kind != SlotKind::comm && slot.function != "wpm_comm_create") continue;
    // The valid call succeeds, so a failure below is the substitute's doing.
    if (!comm_missing && baselined.insert(slot.function).second) {
      Call valid("", [] { return nullptr; });
      EXPECT_EQ(invoker->second(f, valid), WPM_OK) << "the valid call fails: " << wpm_last_error();
    }
    for (const Substitute& substitute : substitutes_for(f, slot.kind)) {
      if (substitute.label == "NULL" && null_allowed(slot)) continue;
      Call call(slot.argument, substitute.make);
      const wpm_status status = invoker->second(f, call);
      auto asked = call.asked().find(slot.argument);
      const std::string field = slot.in_struct + "." + slot.argument;
      if (asked == call.asked().end()) {
        if (slot.in_struct.empty())
          ADD_FAILURE() << "the invoker of " << slot.function << " does not pass '" << slot.argument << "'";
        else
          field_read.emplace(field, false);
        break;
      }
      if (!slot.in_struct.empty()) field_read[field] = true;
      EXPECT_EQ(asked->second, slot.kind) << "the invoker asks for '" << slot.argument << "' as a "
                                          << slot_kind_name(asked->second);
      EXPECT_EQ(status, WPM_ERR_INVALID_ARGUMENT) << substitute.label << ": " << wpm_status_name(status) << ": "
                                                  << call.error();
      EXPECT_EQ(call.argument(), slot.argument) << substitute.label << ": " << call.error();
      if (substitute.still_live) {
        EXPECT_TRUE(substitute.still_live()) << substitute.label << " did not survive";
      }
      ++checked;
    }
  }
  for (const auto& [field, read] : field_read) EXPECT_TRUE(read) << "no invoker passes " << field;
  return checked;
}

}  // namespace wpm_test
