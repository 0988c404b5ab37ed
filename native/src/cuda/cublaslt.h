// cuBLASLt, opened at run time. Linking it (statically: ~500 MB; dynamically:
// libworldpm.so would not load without the CUDA toolkit) would cost every
// user who never touches a GPU, so the cuda backend dlopens libcublasLt.so.N
// when its first context starts; the declarations come from the toolkit's
// cublasLt.h at build time (decltype), so nothing is re-declared by hand.
//
// Cublas::gemm runs the C ABI's row-major GEMM as cuBLASLt's column-major one
// on the transposed problem: C^T = op(B)^T op(A)^T, i.e. A and B swap places
// and M and N swap, with each operand's stored layout described as it is.
// What that takes (descriptor, layouts, the heuristic's algorithm) is built
// once per GemmPlanKey and kept in a bounded cache of the context's plans.
#pragma once

#include <cublasLt.h>

#include <string>

#include "../backend.h"
#include "../gemm_plan_key.h"
#include "../lru_cache.h"

namespace wpm {

struct CublasLtApi {
  decltype(&cublasLtCreate) create;
  decltype(&cublasLtDestroy) destroy;
  decltype(&cublasLtMatmulDescCreate) desc_create;
  decltype(&cublasLtMatmulDescDestroy) desc_destroy;
  decltype(&cublasLtMatmulDescSetAttribute) desc_set;
  decltype(&cublasLtMatrixLayoutCreate) layout_create;
  decltype(&cublasLtMatrixLayoutDestroy) layout_destroy;
  decltype(&cublasLtMatrixLayoutSetAttribute) layout_set;
  decltype(&cublasLtMatmulPreferenceCreate) pref_create;
  decltype(&cublasLtMatmulPreferenceDestroy) pref_destroy;
  decltype(&cublasLtMatmulPreferenceSetAttribute) pref_set;
  decltype(&cublasLtMatmulAlgoGetHeuristic) heuristic;
  decltype(&cublasLtMatmul) matmul;

  // The process-wide table, loaded once; null with *error saying what is missing.
  static const CublasLtApi* load(std::string* error);
};

// One GEMM shape's cuBLASLt state: the matmul descriptor, the layouts of cuBLASLt's A, B and C (our B, A and
// C) and the algorithm the heuristic chose for them with the context's workspace; destroyed with the plan.
class GemmPlan {
 public:
  explicit GemmPlan(const CublasLtApi& api) : api_(&api) {}
  GemmPlan(GemmPlan&& other) noexcept
      : api_(other.api_), op(other.op), a(other.a), b(other.b), c(other.c), algo(other.algo) {
    other.op = nullptr;
    other.a = other.b = other.c = nullptr;
  }
  GemmPlan(const GemmPlan&) = delete;
  GemmPlan& operator=(const GemmPlan&) = delete;
  GemmPlan& operator=(GemmPlan&&) = delete;
  ~GemmPlan() {
    if (c) api_->layout_destroy(c);
    if (b) api_->layout_destroy(b);
    if (a) api_->layout_destroy(a);
    if (op) api_->desc_destroy(op);
  }

 private:
  const CublasLtApi* api_;

 public:
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

// One context's handle, workspace and GEMM plans.
class Cublas {
 public:
  // workspace: device memory of workspace_bytes, owned by the caller.
  Cublas(const CublasLtApi& api, cublasLtHandle_t handle, void* workspace, size_t workspace_bytes)
      : api_(api), handle_(handle), workspace_(workspace), workspace_bytes_(workspace_bytes) {}
  ~Cublas() {
    plans_.clear();  // the plans' descriptors before the handle they were used with
    api_.destroy(handle_);
  }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;

  static constexpr size_t kWorkspaceBytes = size_t(32) << 20;
  // A training step has a few dozen GEMM shapes; a context that sees more (many batch shapes) rebuilds the
  // least recently used plans rather than keeping descriptors without bound.
  static constexpr size_t kPlanCapacity = 256;

  wpm_status gemm(const GemmArgs& args, cudaStream_t stream);

  size_t cached_plans() const { return plans_.size(); }

 private:
  wpm_status build_plan(const GemmArgs& args, const GemmPlanKey& key, GemmPlan* plan);

  const CublasLtApi& api_;
  cublasLtHandle_t handle_;
  void* workspace_;
  size_t workspace_bytes_;
  LruCache<GemmPlanKey, GemmPlan, GemmPlanKeyHash> plans_{kPlanCapacity};
};

}  // namespace wpm
