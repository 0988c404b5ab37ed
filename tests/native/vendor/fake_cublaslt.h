// A stand-in for cuBLASLt, so the cuda backend's GEMM host code (native/src/cuda/cublaslt.cpp) runs in tests on
// machines without a GPU: the functions CublasLtApi binds, with cuBLASLt's documented semantics on host memory.
//
// Modelled: column-major layouts (CUBLASLT_ORDER_COL only) of f32, f16 and bf16 with fp32 compute; transposes
// of A and B; ld >= rows; batch count and strided batch offsets in elements (0 repeats an operand); alpha and
// beta on the host (C is not read when beta is 0); the preferences MAX_WORKSPACE_BYTES and
// MIN_ALIGNMENT_{A,B,C,D}_BYTES (default 256, as the library's). The heuristic's algorithm assumes each
// operand's pointer is aligned as the preference promised, lowered to what its ld and batch stride keep (the
// library knows those from the layout); cublasLtMatmul given a pointer (of any batch item) that is not answers
// CUBLAS_STATUS_NOT_SUPPORTED, where the real library may fault. A promise below the element size gives no
// algorithm. The product is summed in double and rounded once to the output type.
// Attributes outside that list answer CUBLAS_STATUS_NOT_SUPPORTED, a wrong attribute size INVALID_VALUE.
#pragma once

#include <cstdint>

#include "cuda/cublaslt.h"

namespace fake_cublaslt {

// The fake's functions as the cuda backend's table.
wpm::CublasLtApi api();

// What the most recent heuristic call was given, for tests of the caller's descriptors.
struct Observed {
  uint32_t min_alignment[4];  // A, B, C, D
  uint64_t max_workspace_bytes;
  int heuristic_calls, matmul_calls;
};
Observed observed();
void reset_observed();

}  // namespace fake_cublaslt
