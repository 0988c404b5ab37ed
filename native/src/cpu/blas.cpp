#include "blas.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "../error.h"
#include "cpu_features.h"

namespace wpm {
namespace {

// The CBLAS values of the enums we use (cblas.h: CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112).
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                         int);
using SetThreadsFn = void (*)(int);
using NameFn = char* (*)();

struct Blas {
  SgemmFn sgemm = nullptr;
  SetThreadsFn set_threads = nullptr;
  std::string description;
  bool ok = false;
};

// The best OpenBLAS core for what this CPU has; null to let OpenBLAS decide.
const char* core_for_cpu() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512bf16) return "COOPERLAKE";
  if (f.avx512f) return "SKYLAKEX";
  if (f.avx2 && f.fma) return "HASWELL";
  return nullptr;
}

Blas open_blas() {
  Blas blas;
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr) {
    if (const char* core = core_for_cpu()) setenv("OPENBLAS_CORETYPE", core, 0);
  }
  void* lib = nullptr;
  for (const char* name : {"libopenblas.so.0", "libopenblas.so"}) {
    if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
  }
  if (lib == nullptr) {
    blas.description = std::string("OpenBLAS not found (") + dlerror() + "); install libopenblas0";
    return blas;
  }
  blas.sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "cblas_sgemm"));
  blas.set_threads = reinterpret_cast<SetThreadsFn>(dlsym(lib, "openblas_set_num_threads"));
  auto config = reinterpret_cast<NameFn>(dlsym(lib, "openblas_get_config"));
  auto core = reinterpret_cast<NameFn>(dlsym(lib, "openblas_get_corename"));
  if (blas.sgemm == nullptr || blas.set_threads == nullptr) {
    blas.description = "the BLAS library found lacks cblas_sgemm or openblas_set_num_threads";
    return blas;
  }
  // The config string starts "OpenBLAS 0.3.21 ..." and goes on with build flags: keep name and version.
  std::string name = config ? config() : "OpenBLAS";
  size_t second_space = name.find(' ', name.find(' ') + 1);
  blas.description = name.substr(0, second_space) + ", " + (core ? core() : "unknown") + " kernels";
  blas.ok = true;
  return blas;  // the handle stays open for the life of the process
}

const Blas& blas() {
  static const Blas instance = open_blas();
  return instance;
}

}  // namespace

bool blas_ready() {
  if (blas().ok) return true;
  fail(WPM_ERR_BACKEND_UNAVAILABLE, "cpu backend: %s", blas().description.c_str());
  return false;
}

const char* blas_description() { return blas().description.c_str(); }

void blas_set_threads(int threads) {
  if (blas().ok) blas().set_threads(threads);
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  blas().sgemm(kRowMajor, trans_a ? kTrans : kNoTrans, trans_b ? kTrans : kNoTrans, int(m), int(n), int(k), alpha, a,
               int(lda), b, int(ldb), beta, c, int(ldc));
}

}  // namespace wpm
