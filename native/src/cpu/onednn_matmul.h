// bf16 GEMM through oneDNN's matmul primitive (Debian libdnnl-dev, oneDNN 2.x).
//
// C[i] = alpha op(A[i]) op(B[i]) + beta C[i] with A, B, C bf16 and fp32
// accumulation: oneDNN keeps the dot products in fp32 (vdpbf16ps on
// AVX512-BF16), applies alpha as its output scale and beta as a sum post-op
// on the fp32 accumulator, and rounds to bf16 once when it stores C. Same
// contract as the converting path in gemm.cpp, at about twice its speed.
//
// Built when CMake found oneDNN's headers (WPM_HAVE_ONEDNN); libdnnl itself is
// opened at run time (onednn_library.h). create() returns null when it is not
// built in or cannot be loaded, and gemm.cpp keeps the converting path.
#pragma once

#include <memory>
#include <string>

#include "../backend.h"

namespace wpm {

class OnednnMatmul {
 public:
  // threads: the CPU backend's pool size, which oneDNN's own threads follow.
  // Null when oneDNN is not built in, cannot be loaded, or has no CPU engine.
  static std::unique_ptr<OnednnMatmul> create(int threads);
  virtual ~OnednnMatmul() = default;

  // Runs a bf16 GEMM. False (nothing written) when oneDNN offers only its
  // reference implementation for this layout; the caller then takes another path.
  virtual bool run(const GemmArgs& g) = 0;
};

// "oneDNN 2.6.3" when built in and loaded, else null.
const char* onednn_version();
// Why onednn_version() is null: "oneDNN unavailable: <the loader's reason>; install ..." or
// "oneDNN not built in: ..."; empty when oneDNN is loaded.
std::string onednn_missing_reason();
// Whether oneDNN runs bf16 on AMX tiles here (far above any vector path); false without oneDNN.
bool onednn_uses_amx();

}  // namespace wpm
