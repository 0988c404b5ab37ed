// libFuzzer target: the C ABI's argument validation on the cpu backend.
//
// Each input is decoded into a sequence of C ABI calls whose arguments come from the input: shapes and
// counts (mostly small, sometimes any 64-bit value), dtypes and enums (in range or not), struct sizes,
// floats (NaN and infinities included) and handles (live, NULL, freed, of another context, or of the
// wrong kind; WORLDPM_FUZZ_WRONG_KIND=0 leaves out the last). The property, checked after every call: the call
// returns a known wpm_status, and a failed call leaves a non-empty wpm_last_error(). AddressSanitizer and
// UBSan turn a read or write out of bounds, a use after free or undefined arithmetic into a crash.
//
// What the ABI leaves to the caller is kept true here, since breaking it is no bug of the library: host
// arrays hold the counts the call is given (the library cannot see their extent), wrapped host memory is
// as long as its count says, and allocations stay small (a valid 2^39-element request is legal, but no
// fuzzing machine has the memory).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "worldpm.h"

namespace {

constexpr size_t kPoolElements = 64;         // elements of each buffer made per input
constexpr size_t kHostElements = 4 * kPoolElements;
constexpr int kMaxHandleArray = 6;           // adamw / global norm tensor lists
constexpr size_t kMaxCallsPerInput = 64;

[[noreturn]] void violation(const char* call, const char* what, int status) {
  std::fprintf(stderr, "abi_calls_fuzz: %s: %s (status %d, message '%s')\n", call, what, status, wpm_last_error());
  std::abort();
}

// The property every call must keep.
void expect_status(const char* call, wpm_status status) {
  if (int(status) < int(WPM_OK) || int(status) > int(WPM_ERR_COMM)) violation(call, "unknown status", status);
  if (status != WPM_OK) {
    const char* message = wpm_last_error();
    if (message == nullptr || message[0] == '\0') violation(call, "failed without a message", status);
    if (wpm_last_error_argument() == nullptr) violation(call, "wpm_last_error_argument() is NULL", status);
  }
}

#define CALL(expr) expect_status(#expr, (expr))

// Two contexts made once per process: "ours" for most calls, "other" for WRONG_CONTEXT handles.
struct Contexts {
  wpm_context* ours = nullptr;
  wpm_context* other = nullptr;
  Contexts() {
    wpm_context_options options{sizeof(wpm_context_options), WPM_BACKEND_CPU, 1, 0, nullptr};
    if (wpm_context_create(&options, &ours) != WPM_OK || wpm_context_create(&options, &other) != WPM_OK) {
      std::fprintf(stderr, "abi_calls_fuzz: no cpu context: %s\n", wpm_last_error());
      std::abort();
    }
  }
};

const Contexts& contexts() {
  static const Contexts c;
  return c;
}

// On unless WORLDPM_FUZZ_WRONG_KIND=0: every handle carries its kind, so a wrong one must be refused like
// any other bad argument; the switch is there to tell a new finding's cause apart.
bool wrong_kind_handles() {
  static const bool on = [] {
    const char* v = std::getenv("WORLDPM_FUZZ_WRONG_KIND");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return on;
}

// One input's calls: the handles they made, the ones they freed, and the argument decoder.
class Session {
 public:
  explicit Session(FuzzedDataProvider& in) : in_(in) {
    host_.resize(kHostElements * 4 / sizeof(uint32_t) + 16);
    // One buffer of each dtype and size class, so ops can succeed without an alloc call first; i32
    // contents (ids, lengths, positions) come from the input, the others from a fixed fill.
    for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16, WPM_I32}) {
      for (size_t count : {kPoolElements, size_t(1), size_t(8)}) add(alloc(contexts().ours, dtype, count));
    }
    add(alloc(contexts().other, WPM_F32, kPoolElements));
    for (wpm_buffer* b : live_) {
      wpm_dtype dtype;
      size_t count;
      CALL(wpm_buffer_info(b, &dtype, &count));
      if (dtype == WPM_I32) {
        std::vector<int32_t> values(count);
        for (int32_t& v : values) v = small_int32();
        CALL(wpm_buffer_write(b, 0, values.data(), count));
      } else {
        CALL(wpm_buffer_fill(b, 0.5));
      }
    }
  }

  ~Session() {
    for (wpm_buffer* b : live_) CALL(wpm_buffer_free(b));
    for (wpm_context* c : own_contexts_) CALL(wpm_context_destroy(c));
  }

  void run() {
    for (size_t i = 0; i < kMaxCallsPerInput && in_.remaining_bytes() > 0; ++i) one_call();
  }

 private:
  FuzzedDataProvider& in_;
  std::vector<wpm_buffer*> live_;
  std::vector<const void*> freed_;
  std::vector<wpm_context*> own_contexts_;
  std::vector<uint32_t> host_;  // host memory of every read, write and wrap, large enough for any valid count

  wpm_buffer* alloc(wpm_context* context, wpm_dtype dtype, size_t count) {
    wpm_buffer* b = nullptr;
    CALL(wpm_buffer_alloc(context, dtype, count, &b));
    return b;
  }
  void add(wpm_buffer* b) {
    if (b != nullptr) live_.push_back(b);
  }

  int32_t small_int32() { return in_.ConsumeIntegralInRange<int32_t>(-2, 70); }

  // A dimension or count: mostly small, so that shapes can match the buffers; sometimes anything.
  int64_t dim() {
    switch (in_.ConsumeIntegralInRange<int>(0, 15)) {
      case 0: return in_.ConsumeIntegral<int64_t>();
      case 1: return -in_.ConsumeIntegralInRange<int64_t>(1, 3);
      case 2: return std::numeric_limits<int64_t>::max();
      case 3: return int64_t(1) << in_.ConsumeIntegralInRange<int>(31, 62);
      default: return in_.ConsumeIntegralInRange<int64_t>(0, 9);
    }
  }
  // A size_t count or offset for the memory calls (same distribution, reinterpreted).
  size_t size() { return size_t(dim()); }

  float real() {
    switch (in_.ConsumeIntegralInRange<int>(0, 9)) {
      case 0: return std::numeric_limits<float>::quiet_NaN();
      case 1: return std::numeric_limits<float>::infinity();
      case 2: return -std::numeric_limits<float>::infinity();
      case 3: return 0.0f;
      case 4: return -1.0f;
      case 5: return 1e-5f;
      case 6: return in_.ConsumeFloatingPoint<float>();
      default: return in_.ConsumeFloatingPointInRange<float>(0.0f, 1.0f);
    }
  }

  template <class Enum>
  Enum enumeration(int valid_count) {
    if (in_.ConsumeIntegralInRange<int>(0, 7) == 0) return Enum(in_.ConsumeIntegral<int32_t>());
    return Enum(in_.ConsumeIntegralInRange<int>(0, valid_count - 1));
  }

  size_t struct_size(size_t real_size) {
    switch (in_.ConsumeIntegralInRange<int>(0, 11)) {
      case 0: return 0;
      case 1: return real_size - 1;
      case 2: return in_.ConsumeIntegralInRange<size_t>(0, real_size);
      // Larger than the struct the caller has: the library must read no more than its own struct.
      case 3: return real_size + in_.ConsumeIntegralInRange<size_t>(1, 64);
      default: return real_size;
    }
  }

  // A buffer argument: live most of the time, else NULL, freed, never a handle, or of the wrong kind.
  wpm_buffer* buffer() {
    const int choice = in_.ConsumeIntegralInRange<int>(0, 19);
    if (choice == 0) return nullptr;
    if (choice == 1 && !freed_.empty())
      return const_cast<wpm_buffer*>(static_cast<const wpm_buffer*>(freed_[in_.ConsumeIntegralInRange<size_t>(0, freed_.size() - 1)]));
    if (choice == 2) return reinterpret_cast<wpm_buffer*>(host_.data());  // memory that is no handle at all
    if (choice == 3 && wrong_kind_handles()) return reinterpret_cast<wpm_buffer*>(contexts().ours);
    if (live_.empty()) return nullptr;
    return live_[in_.ConsumeIntegralInRange<size_t>(0, live_.size() - 1)];
  }

  wpm_context* context() {
    switch (in_.ConsumeIntegralInRange<int>(0, 15)) {
      case 0: return nullptr;
      case 1: return reinterpret_cast<wpm_context*>(host_.data());
      case 2:
        if (wrong_kind_handles() && !live_.empty()) return reinterpret_cast<wpm_context*>(live_.front());
        return nullptr;
      case 3:
        for (const void* f : freed_) {
          if (f != nullptr) return const_cast<wpm_context*>(static_cast<const wpm_context*>(f));
        }
        return nullptr;
      case 4: return contexts().other;
      case 5:
        if (!own_contexts_.empty()) return own_contexts_.back();
        return contexts().ours;
      default: return contexts().ours;
    }
  }

  // A communicator argument: none can be live here (creating one starts MPI), so only handles the
  // library must refuse.
  wpm_comm* comm() {
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: return reinterpret_cast<wpm_comm*>(host_.data());
      case 1:
        if (wrong_kind_handles() && !live_.empty()) return reinterpret_cast<wpm_comm*>(live_.front());
        return nullptr;
      default: return nullptr;
    }
  }

  // Host memory for a read or write of count elements at most: the library cannot see its extent.
  void* host(size_t count) {
    if (in_.ConsumeIntegralInRange<int>(0, 15) == 0) return nullptr;
    return count <= kHostElements ? host_.data() : nullptr;
  }

  void free_buffer() {
    wpm_buffer* b = buffer();
    const wpm_status status = wpm_buffer_free(b);
    expect_status("wpm_buffer_free", status);
    if (status == WPM_OK && b != nullptr) {
      live_.erase(std::find(live_.begin(), live_.end(), b));
      freed_.push_back(b);
    }
  }

  void wrap() {
    const wpm_dtype dtype = enumeration<wpm_dtype>(4);
    char* base = reinterpret_cast<char*>(host_.data());
    const size_t skew = in_.ConsumeIntegralInRange<size_t>(0, 7);  // misaligned for some dtypes
    const size_t bytes_left = host_.size() * sizeof(uint32_t) - skew;
    size_t count = size();
    const size_t element = wpm_dtype_size(dtype);
    // A count the caller's memory holds, or one the library must refuse (above 2^40 elements).
    if (element != 0 && count > bytes_left / element && count <= (size_t(1) << 40)) count = bytes_left / element;
    void* pointer = in_.ConsumeIntegralInRange<int>(0, 7) == 0 ? nullptr : base + skew;
    wpm_buffer* b = nullptr;
    CALL(wpm_buffer_wrap(context(), dtype, pointer, count, in_.ConsumeBool() ? &b : nullptr));
    add(b);
  }

  // A parameter struct, or now and then NULL in its place.
  template <class Params>
  const Params* maybe_null(const Params& p) {
    return in_.ConsumeIntegralInRange<int>(0, 15) ? &p : nullptr;
  }

  // The forward or the backward of an op whose two halves share one parameter struct.
  template <class Params>
  void forward_or_backward(const char* forward_name, wpm_status (*forward)(wpm_context*, const Params*),
                           const char* backward_name, wpm_status (*backward)(wpm_context*, const Params*),
                           const Params& p) {
    const Params* arg = maybe_null(p);
    const bool fwd = in_.ConsumeBool();
    expect_status(fwd ? forward_name : backward_name, (fwd ? forward : backward)(context(), arg));
  }
#define PARAMS_CALL(op, p) forward_or_backward(#op "_fwd", op##_fwd, #op "_bwd", op##_bwd, p)

  template <size_t N>
  void handle_array(const wpm_buffer* (&array)[N], int64_t count) {
    for (int64_t i = 0; i < std::min<int64_t>(count, N); ++i) array[i] = buffer();
  }

  void adamw() {
    wpm_adamw_params p{};
    p.struct_size = struct_size(sizeof p);
    p.tensors = in_.ConsumeIntegralInRange<int64_t>(-2, kMaxHandleArray);
    wpm_buffer* params[kMaxHandleArray] = {};
    const wpm_buffer* grads[kMaxHandleArray] = {};
    wpm_buffer* m[kMaxHandleArray] = {};
    wpm_buffer* v[kMaxHandleArray] = {};
    wpm_buffer* working[kMaxHandleArray] = {};
    int32_t decay[kMaxHandleArray] = {};
    for (int i = 0; i < kMaxHandleArray; ++i) {
      params[i] = buffer();
      grads[i] = buffer();
      m[i] = buffer();
      v[i] = buffer();
      working[i] = in_.ConsumeBool() ? buffer() : nullptr;
      decay[i] = in_.ConsumeIntegral<int32_t>();
    }
    const bool null_arrays = in_.ConsumeIntegralInRange<int>(0, 7) == 0;
    p.params = null_arrays ? nullptr : params;
    p.grads = grads;
    p.m = m;
    p.v = v;
    p.working = in_.ConsumeBool() ? working : nullptr;
    p.decay = in_.ConsumeBool() ? decay : nullptr;
    p.lr = real();
    p.beta1 = real();
    p.beta2 = real();
    p.eps = real();
    p.weight_decay = real();
    p.grad_scale = real();
    p.step = dim();
    p.step_values = in_.ConsumeBool() ? buffer() : nullptr;
    CALL(wpm_adamw_step(context(), maybe_null(p)));
  }

  void one_call();
};

void Session::one_call() {
  switch (in_.ConsumeIntegralInRange<int>(0, 37)) {
    case 0: {
      const wpm_dtype dtype = enumeration<wpm_dtype>(4);
      size_t count = size();
      if (count > kPoolElements && count <= (size_t(1) << 40)) count %= kPoolElements + 1;  // small, or refused
      wpm_buffer* b = nullptr;
      CALL(wpm_buffer_alloc(context(), dtype, count, in_.ConsumeBool() ? &b : nullptr));
      add(b);
      break;
    }
    case 1: {
      wpm_buffer* v = nullptr;
      const size_t offset = size();
      CALL(wpm_buffer_view(buffer(), offset, size(), in_.ConsumeBool() ? &v : nullptr));
      add(v);
      break;
    }
    case 2: free_buffer(); break;
    case 3: wrap(); break;
    case 4: {
      wpm_dtype dtype;
      size_t count;
      CALL(wpm_buffer_info(buffer(), in_.ConsumeBool() ? &dtype : nullptr, in_.ConsumeBool() ? &count : nullptr));
      void* pointer = nullptr;
      CALL(wpm_buffer_device_pointer(buffer(), in_.ConsumeBool() ? &pointer : nullptr));
      break;
    }
    case 5: {
      const size_t offset = size(), count = size();
      CALL(wpm_buffer_write(buffer(), offset, host(count), count));
      break;
    }
    case 6: {
      const size_t offset = size(), count = size();
      CALL(wpm_buffer_read(buffer(), offset, host(count), count));
      break;
    }
    case 7: CALL(wpm_buffer_copy(buffer(), buffer())); break;
    case 8: CALL(wpm_buffer_fill(buffer(), in_.ConsumeBool() ? double(real()) : in_.ConsumeFloatingPoint<double>())); break;
    case 9: {
      wpm_buffer* b = buffer();
      const uint64_t seed = in_.ConsumeIntegral<uint64_t>();
      const float a = real(), c = real();
      CALL(in_.ConsumeBool() ? wpm_fill_uniform(b, seed, a, c) : wpm_fill_normal(b, seed, a, c));
      break;
    }
    case 10: {
      wpm_gemm_params p{};
      p.struct_size = struct_size(sizeof p);
      p.trans_a = in_.ConsumeIntegralInRange<int32_t>(-1, 2);
      p.trans_b = in_.ConsumeIntegralInRange<int32_t>(-1, 2);
      p.m = dim(), p.n = dim(), p.k = dim(), p.batch = dim();
      p.alpha = real(), p.beta = real();
      p.a = buffer(), p.b = buffer(), p.c = buffer();
      p.lda = dim(), p.ldb = dim(), p.ldc = dim();
      p.stride_a = dim(), p.stride_b = dim(), p.stride_c = dim();
      CALL(wpm_gemm(context(), maybe_null(p)));
      break;
    }
    case 11: {
      wpm_buffer *ids = buffer(), *table = buffer(), *out = buffer();
      const int64_t n = dim(), vocab = dim(), c = dim();
      if (in_.ConsumeBool()) CALL(wpm_embedding_fwd(context(), ids, table, out, n, vocab, c));
      else CALL(wpm_embedding_bwd(context(), ids, table, out, n, vocab, c));
      break;
    }
    case 12: {
      wpm_rmsnorm_params p{};
      p.struct_size = struct_size(sizeof p);
      p.n = dim(), p.c = dim();
      p.eps = real();
      p.x = buffer(), p.weight = buffer(), p.out = buffer(), p.rstd = buffer();
      p.dout = buffer(), p.dx = buffer(), p.dweight = buffer();
      PARAMS_CALL(wpm_rmsnorm, p);
      break;
    }
    case 13: {
      wpm_rope_params p{};
      p.struct_size = struct_size(sizeof p);
      p.b = dim(), p.t = dim(), p.h = dim(), p.d = dim();
      p.theta = real();
      p.positions = in_.ConsumeBool() ? buffer() : nullptr;
      p.x = buffer(), p.dx = buffer();
      PARAMS_CALL(wpm_rope, p);
      break;
    }
    case 14: {
      wpm_attention_params p{};
      p.struct_size = struct_size(sizeof p);
      p.b = dim(), p.t = dim(), p.h = dim(), p.kvh = dim(), p.d = dim();
      p.scale = real();
      p.padding = enumeration<wpm_padding>(2);
      p.lengths = in_.ConsumeBool() ? buffer() : nullptr;
      p.q = buffer(), p.k = buffer(), p.v = buffer(), p.out = buffer(), p.lse = buffer();
      p.dout = buffer(), p.dq = buffer(), p.dk = buffer(), p.dv = buffer();
      if (in_.ConsumeBool()) {  // packed: the offsets are whatever the buffer holds, checked by the backend
        p.cu_seqlens = buffer();
        p.max_seqlen = dim();
      }
      PARAMS_CALL(wpm_attention, p);
      break;
    }
    case 15: {
      wpm_buffer *a = buffer(), *b = buffer(), *c = buffer(), *d = buffer(), *e = buffer();
      const int64_t n = dim();
      if (in_.ConsumeBool()) CALL(wpm_swiglu_fwd(context(), a, b, c, n));
      else CALL(wpm_swiglu_bwd(context(), a, b, c, d, e, n));
      break;
    }
    case 16: {
      wpm_buffer *a = buffer(), *b = buffer(), *c = buffer();
      const int64_t n = dim();
      const wpm_gelu_kind kind = enumeration<wpm_gelu_kind>(2);
      if (in_.ConsumeBool()) CALL(wpm_gelu_fwd(context(), a, b, n, kind));
      else CALL(wpm_gelu_bwd(context(), a, b, c, n, kind));
      break;
    }
    case 17: {
      wpm_buffer *a = buffer(), *b = buffer(), *c = buffer();
      const int64_t n = dim();
      if (in_.ConsumeBool()) CALL(wpm_relu_fwd(context(), a, b, n));
      else CALL(wpm_relu_bwd(context(), a, b, c, n));
      break;
    }
    case 18: {
      wpm_last_token_pool_params p{};
      p.struct_size = struct_size(sizeof p);
      p.b = dim(), p.t = dim(), p.c = dim();
      p.padding = enumeration<wpm_padding>(2);
      p.lengths = buffer(), p.hidden = buffer(), p.out = buffer(), p.dout = buffer(), p.dhidden = buffer();
      PARAMS_CALL(wpm_last_token_pool, p);
      break;
    }
    case 19: {
      wpm_bt_loss_params p{};
      p.struct_size = struct_size(sizeof p);
      p.pairs = dim();
      p.margin = real();
      p.chosen = buffer(), p.rejected = buffer();
      p.weights = in_.ConsumeBool() ? buffer() : nullptr;
      p.loss = buffer();
      p.dloss = real();
      p.dchosen = buffer(), p.drejected = buffer();
      PARAMS_CALL(wpm_bt_loss, p);
      break;
    }
    case 20: adamw(); break;
    case 21: {
      const wpm_buffer* tensors[kMaxHandleArray] = {};
      const int64_t count = in_.ConsumeIntegralInRange<int64_t>(-2, kMaxHandleArray);
      handle_array(tensors, count);
      const wpm_buffer* const* arg = in_.ConsumeIntegralInRange<int>(0, 7) ? tensors : nullptr;
      if (in_.ConsumeBool()) {
        CALL(wpm_global_norm(context(), arg, count, buffer()));
      } else {
        const float scale = real();
        CALL(wpm_scale_check_finite(context(), const_cast<wpm_buffer* const*>(arg), count, scale, buffer()));
      }
      break;
    }
    case 22: {
      wpm_buffer *src = buffer(), *dst = buffer();
      CALL(wpm_cast(context(), src, dst, dim()));
      break;
    }
    case 23: {
      // A new context; threads kept few (a valid 4096 would start 4096 threads per input).
      wpm_context_options options{};
      options.struct_size = struct_size(sizeof options);
      options.backend = enumeration<wpm_backend>(4);
      options.num_threads = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<int32_t>(0, 2) : in_.ConsumeIntegral<int32_t>();
      if (options.num_threads > 2 && options.num_threads <= 4096) options.num_threads = 1;
      options.device = in_.ConsumeIntegral<int32_t>();
      options.stream = in_.ConsumeBool() ? host_.data() : nullptr;
      wpm_context* created = nullptr;
      CALL(wpm_context_create(in_.ConsumeBool() ? &options : nullptr, in_.ConsumeIntegralInRange<int>(0, 15) ? &created : nullptr));
      if (created != nullptr) own_contexts_.push_back(created);
      break;
    }
    case 24: {
      if (own_contexts_.empty()) break;
      wpm_context* c = own_contexts_.back();
      own_contexts_.pop_back();
      CALL(wpm_context_destroy(c));
      freed_.push_back(c);  // buffers of it stay usable; calls naming it must now fail
      break;
    }
    case 25: {
      wpm_backend backend;
      int32_t threads;
      CALL(wpm_context_backend(context(), in_.ConsumeBool() ? &backend : nullptr));
      CALL(wpm_context_num_threads(context(), in_.ConsumeBool() ? &threads : nullptr));
      wpm_device_counters counters{};
      counters.struct_size = in_.ConsumeBool() ? sizeof counters : in_.ConsumeIntegralInRange<size_t>(0, 64);
      CALL(wpm_context_device_counters(context(), in_.ConsumeBool() ? &counters : nullptr));
      CALL(wpm_synchronize(context()));
      break;
    }
    case 26: {
      wpm_backend_info info{};
      info.struct_size = struct_size(sizeof info);
      CALL(wpm_backend_query(enumeration<wpm_backend>(4), in_.ConsumeBool() ? &info : nullptr));
      const char* features = nullptr;
      CALL(wpm_cpu_features(in_.ConsumeBool() ? &features : nullptr));
      break;
    }
    case 27: {
      const char* name = wpm_status_name(wpm_status(in_.ConsumeIntegral<int32_t>()));
      if (name == nullptr) violation("wpm_status_name", "returned NULL", 0);
      const size_t bytes = wpm_dtype_size(wpm_dtype(in_.ConsumeIntegral<int32_t>()));
      if (bytes != 0 && bytes != 2 && bytes != 4) violation("wpm_dtype_size", "returned an impossible size", 0);
      break;
    }
    case 28: {
      wpm_comm_info info{};
      info.struct_size = struct_size(sizeof info);
      CALL(wpm_comm_query(in_.ConsumeBool() ? &info : nullptr));
      break;
    }
    case 29: {
      wpm_comm* c = comm();
      int32_t rank, world;
      CALL(wpm_comm_rank(c, in_.ConsumeBool() ? &rank : nullptr, &world));
      CALL(wpm_comm_wait(c));
      CALL(wpm_barrier(c));
      CALL(wpm_comm_destroy(c));
      break;
    }
    case 30: {
      wpm_comm* c = comm();
      const wpm_reduce_op op = enumeration<wpm_reduce_op>(2);
      switch (in_.ConsumeIntegralInRange<int>(0, 2)) {
        case 0: CALL(wpm_all_reduce(c, buffer(), op)); break;
        case 1: CALL(wpm_all_reduce_start(c, buffer(), op)); break;
        default: {
          // The host copy must outlive the collective: static storage, and the wait right after.
          // host_count is the caller's word for the array's size, so it is never more than the array holds.
          static float host_copy[64];
          const int64_t count = dim();
          float* host = in_.ConsumeBool() && count <= 64 ? host_copy : nullptr;
          CALL(wpm_all_reduce_start_copy(c, buffer(), op, host, count));
          CALL(wpm_comm_wait(c));
        }
      }
      CALL(wpm_broadcast(c, buffer(), in_.ConsumeIntegral<int32_t>()));
      break;
    }
    case 31: {
      wpm_comm* c = comm();
      wpm_buffer *send = buffer(), *recv = buffer();
      CALL(in_.ConsumeBool() ? wpm_all_gather(c, send, recv) : wpm_reduce_scatter(c, send, recv, enumeration<wpm_reduce_op>(2)));
      break;
    }
    case 32: {
      // Creating a communicator with a live context would start MPI: only contexts it must refuse.
      wpm_context* c = context();
      if (c == contexts().ours || c == contexts().other ||
          std::find(own_contexts_.begin(), own_contexts_.end(), c) != own_contexts_.end())
        c = nullptr;
      wpm_comm_options options{};
      options.struct_size = struct_size(sizeof options);
      options.timeout_seconds = real();
      wpm_comm* created = nullptr;
      CALL(wpm_comm_create(c, in_.ConsumeBool() ? &options : nullptr, &created));
      if (created != nullptr) violation("wpm_comm_create", "made a communicator for a context that is not live", 0);
      break;
    }
    default: {
      // Elementwise calls again: the cheapest way to reach the kernels with matching shapes.
      wpm_buffer* b = buffer();
      size_t count = 0;
      wpm_dtype dtype = WPM_F32;
      if (wpm_buffer_info(b, &dtype, &count) != WPM_OK) break;
      CALL(wpm_gelu_fwd(context(), b, buffer(), int64_t(count), enumeration<wpm_gelu_kind>(2)));
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  contexts();
  FuzzedDataProvider in(data, size);
  Session session(in);
  session.run();
  return 0;
}
