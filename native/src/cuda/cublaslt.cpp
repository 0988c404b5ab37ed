#include "cublaslt.h"

#include <dlfcn.h>

#include <cstdint>
#include <mutex>
#include <utility>

#include "../error.h"

namespace wpm {

namespace {

const char* status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "invalid value";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "architecture mismatch";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "execution failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "not supported";
    default: return "error";
  }
}

cudaDataType_t cuda_type(wpm_dtype dtype) {
  switch (dtype) {
    case WPM_F16: return CUDA_R_16F;
    case WPM_BF16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

// The preference lives only as long as the heuristic call that reads it.
struct Preference {
  const CublasLtApi& api;
  cublasLtMatmulPreference_t pref = nullptr;
  ~Preference() {
    if (pref) api.pref_destroy(pref);
  }
};

wpm_status check(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return WPM_OK;
  return fail(s == CUBLAS_STATUS_NOT_SUPPORTED ? WPM_ERR_UNSUPPORTED : WPM_ERR_INTERNAL,
              "wpm_gemm (cuda backend): %s: %s", what, status_name(s));
}

}  // namespace

const CublasLtApi* CublasLtApi::load(std::string* error) {
  static std::once_flag once;
  static CublasLtApi api;
  static const CublasLtApi* loaded = nullptr;
  static std::string load_error;
  std::call_once(once, [] {
    void* lib = nullptr;
    for (const char* name : {"libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"}) {
      lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib) break;
    }
    if (!lib) {
      load_error = "libcublasLt.so.12/.11 not found (install the CUDA toolkit's cuBLAS)";
      return;
    }
    bool ok = true;
    auto bind = [&](auto& fn, const char* symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, symbol));
      if (!fn && ok) {
        load_error = std::string("libcublasLt has no ") + symbol;
        ok = false;
      }
    };
    bind(api.create, "cublasLtCreate");
    bind(api.destroy, "cublasLtDestroy");
    bind(api.desc_create, "cublasLtMatmulDescCreate");
    bind(api.desc_destroy, "cublasLtMatmulDescDestroy");
    bind(api.desc_set, "cublasLtMatmulDescSetAttribute");
    bind(api.layout_create, "cublasLtMatrixLayoutCreate");
    bind(api.layout_destroy, "cublasLtMatrixLayoutDestroy");
    bind(api.layout_set, "cublasLtMatrixLayoutSetAttribute");
    bind(api.pref_create, "cublasLtMatmulPreferenceCreate");
    bind(api.pref_destroy, "cublasLtMatmulPreferenceDestroy");
    bind(api.pref_set, "cublasLtMatmulPreferenceSetAttribute");
    bind(api.heuristic, "cublasLtMatmulAlgoGetHeuristic");
    bind(api.matmul, "cublasLtMatmul");
    if (ok) loaded = &api;
  });
  if (!loaded && error) *error = load_error;
  return loaded;
}

wpm_status Cublas::gemm(const GemmArgs& g, cudaStream_t stream) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return WPM_OK;
  const GemmPlanKey key = GemmPlanKey::of(g);
  const GemmPlan* plan = plans_.find(key);
  if (plan == nullptr) {
    GemmPlan built(api_);
    if (wpm_status s = build_plan(g, key, &built)) return s;
    plan = &plans_.insert(key, std::move(built));
  }
  // cuBLASLt's A is our B, its B our A; C and D are both our C.
  return check(api_.matmul(handle_, plan->op, &g.alpha, g.b, plan->a, g.a, plan->b, &g.beta, g.c, plan->c, g.c,
                           plan->c, &plan->algo, workspace_, workspace_bytes_, stream),
               "matmul");
}

wpm_status Cublas::build_plan(const GemmArgs& g, const GemmPlanKey& key, GemmPlan* plan) {
  const cudaDataType_t type = cuda_type(g.dtype);
  // fp32 math for every dtype (no TF32: results stay within the CPU backend's tolerances).
  if (wpm_status s = check(api_.desc_create(&plan->op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul descriptor")) return s;
  // Column-major view of the row-major problem: cuBLASLt's A is our B, its B is our A.
  const cublasOperation_t op_a = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (wpm_status s = check(api_.desc_set(plan->op, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a), "transa")) return s;
  if (wpm_status s = check(api_.desc_set(plan->op, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b), "transb")) return s;

  // Stored shapes in column-major terms (rows, cols, ld): a row-major r x c matrix is a c x r one.
  const uint64_t b_rows = uint64_t(g.trans_b ? g.k : g.n), b_cols = uint64_t(g.trans_b ? g.n : g.k);
  const uint64_t a_rows = uint64_t(g.trans_a ? g.m : g.k), a_cols = uint64_t(g.trans_a ? g.k : g.m);
  if (wpm_status s = check(api_.layout_create(&plan->a, type, b_rows, b_cols, g.ldb), "layout of B")) return s;
  if (wpm_status s = check(api_.layout_create(&plan->b, type, a_rows, a_cols, g.lda), "layout of A")) return s;
  if (wpm_status s = check(api_.layout_create(&plan->c, type, uint64_t(g.n), uint64_t(g.m), g.ldc), "layout of C"))
    return s;
  if (g.batch > 1) {
    const int32_t count = int32_t(g.batch);
    const struct { cublasLtMatrixLayout_t layout; int64_t stride; } layouts[] = {
        {plan->a, g.stride_b}, {plan->b, g.stride_a}, {plan->c, g.stride_c}};
    for (const auto& l : layouts) {
      if (wpm_status s = check(api_.layout_set(l.layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count), "batch count"))
        return s;
      if (wpm_status s = check(api_.layout_set(l.layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &l.stride,
                                               sizeof l.stride), "batch stride"))
        return s;
    }
  }
  Preference p{api_};
  if (wpm_status s = check(api_.pref_create(&p.pref), "preference")) return s;
  if (wpm_status s = check(api_.pref_set(p.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes_,
                                         sizeof workspace_bytes_), "workspace preference"))
    return s;
  // cuBLASLt assumes 256-byte aligned operands unless the preference says otherwise, and a view at an element
  // offset is not: its kernels would fault on misaligned vector loads, or the heuristic finds no algorithm. The
  // library knows ld and batch strides from the layouts; only the pointers are ours to describe, and the key
  // keeps plans for differently aligned pointers apart. cuBLASLt's A is our B, its B our A; C and D our C.
  const struct { cublasLtMatmulPreferenceAttributes_t attribute; uint32_t bytes; } alignments[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, key.align_b}, {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, key.align_a},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, key.align_c}, {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, key.align_c}};
  for (const auto& a : alignments) {
    if (wpm_status s = check(api_.pref_set(p.pref, a.attribute, &a.bytes, sizeof a.bytes), "alignment preference"))
      return s;
  }
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  if (wpm_status s = check(api_.heuristic(handle_, plan->op, plan->a, plan->b, plan->c, plan->c, p.pref, 1, &result,
                                          &found), "heuristic"))
    return s;
  if (found == 0)
    return fail(WPM_ERR_UNSUPPORTED, "wpm_gemm (cuda backend): cuBLASLt has no algorithm for m %lld n %lld k %lld",
                (long long)g.m, (long long)g.n, (long long)g.k);
  plan->algo = result.algo;
  return WPM_OK;
}

}  // namespace wpm
