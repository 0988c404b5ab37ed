// cuBLASLt, opened at run time. Linking it (statically: ~500 MB; dynamically:
// libworldpm.so would not load without the CUDA toolkit) would cost every
// user who never touches a GPU, so the cuda backend dlopens libcublasLt.so.N
// when its first context starts; the declarations come from the toolkit's
// cublasLt.h at build time (decltype), so nothing is re-declared by hand.
//
// Cublas::gemm runs the C ABI's row-major GEMM as cuBLASLt's column-major one
// on the transposed problem: C^T = op(B)^T op(A)^T, i.e. A and B swap places
// and M and N swap, with each operand's stored layout described as it is.
#pragma once

#include <cublasLt.h>

#include <string>

#include "../backend.h"

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

// One context's handle and workspace.
class Cublas {
 public:
  // workspace: device memory of workspace_bytes, owned by the caller.
  Cublas(const CublasLtApi& api, cublasLtHandle_t handle, void* workspace, size_t workspace_bytes)
      : api_(api), handle_(handle), workspace_(workspace), workspace_bytes_(workspace_bytes) {}
  ~Cublas() { api_.destroy(handle_); }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;

  static constexpr size_t kWorkspaceBytes = size_t(32) << 20;

  wpm_status gemm(const GemmArgs& args, cudaStream_t stream);

 private:
  const CublasLtApi& api_;
  cublasLtHandle_t handle_;
  void* workspace_;
  size_t workspace_bytes_;
};

}  // namespace wpm
