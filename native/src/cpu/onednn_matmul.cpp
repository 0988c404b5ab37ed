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
#include "onednn_matmul.h"

#if WPM_HAVE_ONEDNN

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include <oneapi/dnnl/dnnl.hpp>
#if WPM_ONEDNN_OMP
#include <omp.h>
#endif

namespace wpm {
namespace {

using dnnl::memory;

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
memory::desc strided_bf16(int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld, bool transposed) {
  int64_t items = stride == 0 ? 1 : batch;
  // A batch of one has no real stride; give it the dense one so oneDNN sees a plain layout.
  int64_t item_stride = items == 1 ? (transposed ? cols : rows) * ld : stride;
  memory::dims strides = transposed ? memory::dims{item_stride, 1, ld} : memory::dims{item_stride, ld, 1};
  return memory::desc({items, rows, cols}, memory::data_type::bf16, strides);
}

// A cached primitive with its memory objects (pointers set per call); empty
// primitive: oneDNN has only its reference implementation for the shape.
struct CachedMatmul {
  dnnl::matmul primitive;
  memory a, b, c;
};

// A training run uses a few dozen shapes; a sweep over arbitrary shapes must
// not grow the cache without bound, so past this it starts again.
constexpr size_t kMaxCachedShapes = 512;

class OnednnBf16Matmul final : public OnednnMatmul {
 public:
  explicit OnednnBf16Matmul(int threads) : threads_(threads), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  bool run(const GemmArgs& g) override {
    std::lock_guard<std::mutex> lock(mutex_);  // one stream, and memory objects rebound per call
    use_context_threads();
    const CachedMatmul& mm = lookup(shape_of(g));
    if (!mm.primitive) return false;
    mm.a.set_data_handle(const_cast<void*>(g.a));
    mm.b.set_data_handle(const_cast<void*>(g.b));
    mm.c.set_data_handle(g.c);
    mm.primitive.execute(stream_, {{DNNL_ARG_SRC, mm.a}, {DNNL_ARG_WEIGHTS, mm.b}, {DNNL_ARG_DST, mm.c}});
    stream_.wait();
    return true;
  }

 private:
  void use_context_threads() const {
#if WPM_ONEDNN_OMP
    omp_set_num_threads(threads_);
#endif
  }

  const CachedMatmul& lookup(const MatmulShape& s) {
    auto found = cache_.find(s);
    if (found != cache_.end()) return found->second;
    if (cache_.size() >= kMaxCachedShapes) cache_.clear();
    return cache_.emplace(s, create(s)).first->second;
  }

  CachedMatmul create(const MatmulShape& s) const {
    memory::desc a = strided_bf16(s.batch, s.stride_a, s.m, s.k, s.lda, s.trans_a);
    memory::desc b = strided_bf16(s.batch, s.stride_b, s.k, s.n, s.ldb, s.trans_b);
    memory::desc c = strided_bf16(s.batch, s.stride_c, s.m, s.n, s.ldc, false);
    dnnl::primitive_attr attr;
    if (s.alpha != 1.0f) attr.set_output_scales(0, {s.alpha});
    if (s.beta != 0.0f) {
      dnnl::post_ops sum;
      sum.append_sum(s.beta);  // added to the fp32 accumulator before C is rounded
      attr.set_post_ops(sum);
    }
    CachedMatmul mm;
    try {
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, engine_);
      if (std::string(pd.impl_info_str()).rfind("ref", 0) == 0) return mm;
      mm.primitive = dnnl::matmul(pd);
    } catch (const dnnl::error&) {
      return mm;  // a layout oneDNN rejects (e.g. overlapping items): the caller's path runs it
    }
    mm.a = memory(a, engine_, DNNL_MEMORY_NONE);
    mm.b = memory(b, engine_, DNNL_MEMORY_NONE);
    mm.c = memory(c, engine_, DNNL_MEMORY_NONE);
    return mm;
  }

  const int threads_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::mutex mutex_;
  std::map<MatmulShape, CachedMatmul> cache_;
};

}  // namespace

std::unique_ptr<OnednnMatmul> OnednnMatmul::create(int threads) {
  try {
    return std::make_unique<OnednnBf16Matmul>(threads);
  } catch (const dnnl::error&) {
    return nullptr;  // no CPU engine: the converting path runs every bf16 GEMM
  }
}

const char* onednn_version() {
  static const std::string text = [] {
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }();
  return text.c_str();
}

bool onednn_uses_amx() {
  // ISAs are bit sets, each holding the ones below it.
  unsigned amx = unsigned(dnnl::cpu_isa::avx512_core_amx);
  return (unsigned(dnnl::get_effective_cpu_isa()) & amx) == amx;
}

}  // namespace wpm

#else  // oneDNN not built in

namespace wpm {
std::unique_ptr<OnednnMatmul> OnednnMatmul::create(int) { return nullptr; }
const char* onednn_version() { return nullptr; }
bool onednn_uses_amx() { return false; }
}  // namespace wpm

#endif
