// bf16 GEMM through oneDNN matmul; see onednn_matmul.h.
//
// Layouts: every operand is a 3-D strided memory descriptor [batch, rows,
// cols] over the caller's buffer, so transposes, leading dimensions and batch
// strides are strides, and nothing is copied. A or B with batch stride 0
// under batch > 1 (one matrix for every item) becomes batch 1, which oneDNN
// broadcasts.
//
// Primitives are cached by everything that shapes them (transposes, sizes,
// strides, alpha, beta): creating one picks kernels and blockings and costs
// far more than a small GEMM; a training step reuses a few dozen shapes. A
// shape oneDNN serves only with its reference implementation (orders of
// magnitude slower) is cached as "not here" and run by the caller's path.
//
// Threads: Debian builds oneDNN on OpenMP, which sizes each parallel region by
// the calling thread's omp_get_max_threads(); setting that to the backend's
// pool size before each create and execute makes oneDNN use the context's
// thread count (nthreads is per calling thread in OpenMP, so other contexts
// and other libraries are not affected).
//
// oneDNN is called through its C API from the table onednn_library.h loads at
// run time (the C++ API, dnnl.hpp, would call those functions directly and
// make libdnnl a load-time dependency).
#include "onednn_matmul.h"

#if WPM_HAVE_ONEDNN

#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "onednn_library.h"

namespace wpm {
namespace {

// Everything that shapes a primitive; data pointers are bound at execution.
struct MatmulShape {
  bool trans_a, trans_b;
  int64_t m, n, k, batch, lda, ldb, ldc, stride_a, stride_b, stride_c;
  float alpha, beta;

  auto tie() const {
    return std::tie(trans_a, trans_b, m, n, k, batch, lda, ldb, ldc, stride_a, stride_b, stride_c, alpha, beta);
  }
  bool operator<(const MatmulShape& o) const { return tie() < o.tie(); }
};

MatmulShape shape_of(const GemmArgs& g) {
  return {g.trans_a, g.trans_b, g.m, g.n, g.k, g.batch, g.lda, g.ldb, g.ldc,
          g.stride_a, g.stride_b, g.stride_c, g.alpha, g.beta};
}

// The logical rows x cols matrix stored with row stride ld (or, transposed, stored
// cols x rows), batch items stride apart; batch stride 0 under batch > 1 broadcasts.
bool strided_bf16(const OnednnLibrary& dnnl, int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld,
                  bool transposed, dnnl_memory_desc_t* desc) {
  int64_t items = stride == 0 ? 1 : batch;
  // A batch of one has no real stride; give it the dense one so oneDNN sees a plain layout.
  int64_t item_stride = items == 1 ? (transposed ? cols : rows) * ld : stride;
  const dnnl_dims_t dims = {items, rows, cols};
  const dnnl_dims_t strides = {item_stride, transposed ? 1 : ld, transposed ? ld : 1};
  return dnnl.memory_desc_init_by_strides(desc, 3, dims, dnnl_bf16, strides) == dnnl_success;
}

// A cached primitive with its memory objects (pointers set per call); no
// primitive: oneDNN has only its reference implementation for the shape.
struct CachedMatmul {
  explicit CachedMatmul(const OnednnLibrary& library) : dnnl(library) {}
  CachedMatmul(const CachedMatmul&) = delete;
  CachedMatmul& operator=(const CachedMatmul&) = delete;
  ~CachedMatmul() { release(); }

  void release() {
    if (primitive != nullptr) dnnl.primitive_destroy(primitive);
    for (dnnl_memory_t* memory : {&a, &b, &c})
      if (*memory != nullptr) dnnl.memory_destroy(*memory);
    primitive = nullptr;
    a = b = c = nullptr;
  }

  const OnednnLibrary& dnnl;
  dnnl_primitive_t primitive = nullptr;
  dnnl_memory_t a = nullptr, b = nullptr, c = nullptr;
};

// A training run uses a few dozen shapes; a sweep over arbitrary shapes must
// not grow the cache without bound, so past this it starts again.
constexpr size_t kMaxCachedShapes = 512;

class OnednnBf16Matmul final : public OnednnMatmul {
 public:
  // engine and stream are owned from here on.
  OnednnBf16Matmul(const OnednnLibrary& dnnl, int threads, dnnl_engine_t engine, dnnl_stream_t stream)
      : dnnl_(dnnl), threads_(threads), engine_(engine), stream_(stream) {}

  ~OnednnBf16Matmul() override {
    cache_.clear();  // primitives and memories before their engine
    dnnl_.stream_destroy(stream_);
    dnnl_.engine_destroy(engine_);
  }

  bool run(const GemmArgs& g) override {
    std::lock_guard<std::mutex> lock(mutex_);  // one stream, and memory objects rebound per call
    use_context_threads();
    const CachedMatmul& mm = lookup(shape_of(g));
    if (mm.primitive == nullptr) return false;
    dnnl_.memory_set_data_handle(mm.a, const_cast<void*>(g.a));
    dnnl_.memory_set_data_handle(mm.b, const_cast<void*>(g.b));
    dnnl_.memory_set_data_handle(mm.c, g.c);
    const dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, mm.a}, {DNNL_ARG_WEIGHTS, mm.b}, {DNNL_ARG_DST, mm.c}};
    // Execution fails only on invalid arguments, which creation already ruled out.
    if (dnnl_.primitive_execute(mm.primitive, stream_, 3, args) != dnnl_success) return false;
    dnnl_.stream_wait(stream_);
    return true;
  }

 private:
  void use_context_threads() const {
    if (dnnl_.omp_set_num_threads != nullptr) dnnl_.omp_set_num_threads(threads_);
  }

  const CachedMatmul& lookup(const MatmulShape& s) {
    auto found = cache_.find(s);
    if (found != cache_.end()) return *found->second;
    if (cache_.size() >= kMaxCachedShapes) cache_.clear();
    return *cache_.emplace(s, create(s)).first->second;
  }

  // The primitive descriptor for the shape (alpha as output scale, beta as a sum post-op), or null when
  // oneDNN rejects the layout (e.g. overlapping items): the caller's path runs it.
  dnnl_primitive_desc_t describe(const MatmulShape& s, const dnnl_memory_desc_t& a, const dnnl_memory_desc_t& b,
                                 const dnnl_memory_desc_t& c) const {
    dnnl_matmul_desc_t desc;
    if (dnnl_.matmul_desc_init(&desc, &a, &b, nullptr, &c) != dnnl_success) return nullptr;
    dnnl_primitive_attr_t attr = nullptr;
    if (dnnl_.primitive_attr_create(&attr) != dnnl_success) return nullptr;
    bool ok = s.alpha == 1.0f || dnnl_.primitive_attr_set_output_scales(attr, 1, 0, &s.alpha) == dnnl_success;
    if (ok && s.beta != 0.0f) {
      dnnl_post_ops_t sum = nullptr;
      ok = dnnl_.post_ops_create(&sum) == dnnl_success;
      // Added to the fp32 accumulator before C is rounded; the attribute keeps its own copy.
      ok = ok && dnnl_.post_ops_append_sum(sum, s.beta) == dnnl_success &&
           dnnl_.primitive_attr_set_post_ops(attr, sum) == dnnl_success;
      if (sum != nullptr) dnnl_.post_ops_destroy(sum);
    }
    dnnl_primitive_desc_t pd = nullptr;
    if (ok && dnnl_.primitive_desc_create(&pd, &desc, attr, engine_, nullptr) != dnnl_success) pd = nullptr;
    dnnl_.primitive_attr_destroy(attr);
    return pd;
  }

  std::unique_ptr<CachedMatmul> create(const MatmulShape& s) const {
    auto mm = std::make_unique<CachedMatmul>(dnnl_);
    dnnl_memory_desc_t a, b, c;
    if (!strided_bf16(dnnl_, s.batch, s.stride_a, s.m, s.k, s.lda, s.trans_a, &a) ||
        !strided_bf16(dnnl_, s.batch, s.stride_b, s.k, s.n, s.ldb, s.trans_b, &b) ||
        !strided_bf16(dnnl_, s.batch, s.stride_c, s.m, s.n, s.ldc, false, &c))
      return mm;
    dnnl_primitive_desc_t pd = describe(s, a, b, c);
    if (pd == nullptr) return mm;
    const char* impl = nullptr;
    const bool reference = dnnl_.primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success ||
                           impl == nullptr || std::strncmp(impl, "ref", 3) == 0;
    if (!reference && dnnl_.primitive_create(&mm->primitive, pd) != dnnl_success) mm->primitive = nullptr;
    dnnl_.primitive_desc_destroy(pd);
    if (mm->primitive == nullptr) return mm;
    if (dnnl_.memory_create(&mm->a, &a, engine_, DNNL_MEMORY_NONE) != dnnl_success ||
        dnnl_.memory_create(&mm->b, &b, engine_, DNNL_MEMORY_NONE) != dnnl_success ||
        dnnl_.memory_create(&mm->c, &c, engine_, DNNL_MEMORY_NONE) != dnnl_success)
      mm->release();
    return mm;
  }

  const OnednnLibrary& dnnl_;
  const int threads_;
  const dnnl_engine_t engine_;
  const dnnl_stream_t stream_;
  std::mutex mutex_;
  std::map<MatmulShape, std::unique_ptr<CachedMatmul>> cache_;
};

}  // namespace

std::unique_ptr<OnednnMatmul> OnednnMatmul::create(int threads) {
  const OnednnLibrary* dnnl = onednn_library(nullptr);
  if (dnnl == nullptr) return nullptr;
  dnnl_engine_t engine = nullptr;
  dnnl_stream_t stream = nullptr;
  if (dnnl->engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return nullptr;  // no CPU engine: convert
  if (dnnl->stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) {
    dnnl->engine_destroy(engine);
    return nullptr;
  }
  return std::make_unique<OnednnBf16Matmul>(*dnnl, threads, engine, stream);
}

const char* onednn_version() {
  static const std::string text = [] {
    const OnednnLibrary* dnnl = onednn_library(nullptr);
    if (dnnl == nullptr) return std::string();
    const dnnl_version_t* v = dnnl->version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }();
  return text.empty() ? nullptr : text.c_str();
}

std::string onednn_missing_reason() {
  std::string why;
  if (onednn_library(&why) != nullptr) return "";
  return "oneDNN unavailable: " + why;
}

bool onednn_uses_amx() {
  const OnednnLibrary* dnnl = onednn_library(nullptr);
  if (dnnl == nullptr) return false;
  // ISAs are bit sets, each holding the ones below it.
  const unsigned amx = unsigned(dnnl_cpu_isa_avx512_core_amx);
  return (unsigned(dnnl->get_effective_cpu_isa()) & amx) == amx;
}

}  // namespace wpm

#else  // oneDNN not built in

namespace wpm {
std::unique_ptr<OnednnMatmul> OnednnMatmul::create(int) { return nullptr; }
const char* onednn_version() { return nullptr; }
std::string onednn_missing_reason() {
  return "oneDNN not built in: its headers (libdnnl-dev) were missing at configure time";
}
bool onednn_uses_amx() { return false; }
}  // namespace wpm

#endif
