#include "fake_cublaslt.h"

#include <cstring>
#include <mutex>
#include <vector>

#include "half.h"

struct cublasLtContext {
  int live = 1;
};

namespace fake_cublaslt {
namespace {

constexpr uint64_t kAlgoTag = 0xFA4EC0DEull;

struct Desc {
  cublasOperation_t trans_a = CUBLAS_OP_N, trans_b = CUBLAS_OP_N;
};
struct Layout {
  cudaDataType_t type;
  uint64_t rows, cols;
  int64_t ld;
  int32_t batch = 1;
  int64_t stride = 0;
};
struct Pref {
  uint64_t max_workspace = 0;
  uint32_t alignment[4] = {256, 256, 256, 256};
};

std::mutex observed_mutex;
Observed last{};

template <class Opaque, class Real>
Real* real(Opaque* p) { return reinterpret_cast<Real*>(p); }
template <class Opaque, class Real>
Opaque* opaque(Real* p) { return reinterpret_cast<Opaque*>(p); }

Desc* desc(cublasLtMatmulDesc_t d) { return real<cublasLtMatmulDescOpaque_t, Desc>(d); }
Layout* layout(cublasLtMatrixLayout_t l) { return real<cublasLtMatrixLayoutOpaque_t, Layout>(l); }
Pref* pref(cublasLtMatmulPreference_t p) { return real<cublasLtMatmulPreferenceOpaque_t, Pref>(p); }

size_t element_bytes(cudaDataType_t t) { return t == CUDA_R_32F ? 4 : 2; }
bool known_type(cudaDataType_t t) { return t == CUDA_R_32F || t == CUDA_R_16F || t == CUDA_R_16BF; }

template <class T>
cublasStatus_t read_attribute(const void* buf, size_t size, T* out) {
  if (buf == nullptr || size != sizeof(T)) return CUBLAS_STATUS_INVALID_VALUE;
  std::memcpy(out, buf, sizeof(T));
  return CUBLAS_STATUS_SUCCESS;
}

// op(X) as rows x cols.
void op_shape(const Layout& x, cublasOperation_t op, uint64_t* rows, uint64_t* cols) {
  *rows = op == CUBLAS_OP_N ? x.rows : x.cols;
  *cols = op == CUBLAS_OP_N ? x.cols : x.rows;
}

// The checks cuBLASLt makes of a problem before choosing or running an algorithm.
cublasStatus_t check_problem(const Desc& d, const Layout& a, const Layout& b, const Layout& c, const Layout& dl) {
  for (const Layout* l : {&a, &b, &c, &dl})
    if (l->ld < 1 || uint64_t(l->ld) < l->rows) return CUBLAS_STATUS_INVALID_VALUE;
  if (a.type != b.type || c.type != dl.type || a.type != c.type) return CUBLAS_STATUS_NOT_SUPPORTED;
  uint64_t m, k, k2, n;
  op_shape(a, d.trans_a, &m, &k);
  op_shape(b, d.trans_b, &k2, &n);
  if (k != k2 || c.rows != m || c.cols != n || dl.rows != m || dl.cols != n || dl.ld != c.ld)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (a.batch != c.batch || b.batch != c.batch || dl.batch != c.batch || dl.stride != c.stride)
    return CUBLAS_STATUS_INVALID_VALUE;
  return CUBLAS_STATUS_SUCCESS;
}

double load(cudaDataType_t t, const unsigned char* p) {
  if (t == CUDA_R_32F) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return t == CUDA_R_16F ? wpm::f16_to_float(h) : wpm::bf16_to_float(h);
}

void store(cudaDataType_t t, unsigned char* p, double v) {
  const float f = float(v);
  if (t == CUDA_R_32F) {
    std::memcpy(p, &f, 4);
    return;
  }
  const uint16_t h = t == CUDA_R_16F ? wpm::float_to_f16(f) : wpm::float_to_bf16(f);
  std::memcpy(p, &h, 2);
}

// Element (row, col) of batch item `item` of a column-major operand.
const unsigned char* at(const void* base, const Layout& l, int64_t item, uint64_t row, uint64_t col) {
  const int64_t index = item * l.stride + int64_t(col) * l.ld + int64_t(row);
  return static_cast<const unsigned char*>(base) + index * int64_t(element_bytes(l.type));
}

uint64_t power_of_two_dividing(uint64_t bytes) {
  uint64_t alignment = 256;
  while (alignment > 1 && bytes % alignment != 0) alignment /= 2;
  return alignment;
}

// What the library can assume of every column of every batch item from the layout alone: column j of item i
// starts (i * stride + j * ld) elements past the pointer.
uint64_t layout_alignment(const Layout& l) {
  const uint64_t e = element_bytes(l.type);
  uint64_t alignment = power_of_two_dividing(uint64_t(l.ld) * e);
  if (l.batch > 1 && l.stride != 0) {
    const uint64_t s = power_of_two_dividing(uint64_t(l.stride < 0 ? -l.stride : l.stride) * e);
    if (s < alignment) alignment = s;
  }
  return alignment;
}

bool aligned(const void* p, uint64_t alignment) { return reinterpret_cast<uintptr_t>(p) % alignment == 0; }

// ---------------------------------------------------------------- the API

cublasStatus_t create(cublasLtHandle_t* handle) {
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasLtContext;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t destroy(cublasLtHandle_t handle) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t desc_create(cublasLtMatmulDesc_t* d, cublasComputeType_t compute, cudaDataType_t scale) {
  if (d == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  if (compute != CUBLAS_COMPUTE_32F || scale != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
  *d = opaque<cublasLtMatmulDescOpaque_t>(new Desc);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t desc_destroy(cublasLtMatmulDesc_t d) {
  delete desc(d);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t desc_set(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attribute, const void* buf,
                        size_t size) {
  if (d == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  if (attribute != CUBLASLT_MATMUL_DESC_TRANSA && attribute != CUBLASLT_MATMUL_DESC_TRANSB)
    return CUBLAS_STATUS_NOT_SUPPORTED;
  int32_t op;
  if (cublasStatus_t s = read_attribute(buf, size, &op)) return s;
  if (op != CUBLAS_OP_N && op != CUBLAS_OP_T) return CUBLAS_STATUS_INVALID_VALUE;
  (attribute == CUBLASLT_MATMUL_DESC_TRANSA ? desc(d)->trans_a : desc(d)->trans_b) = cublasOperation_t(op);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t layout_create(cublasLtMatrixLayout_t* l, cudaDataType type, uint64_t rows, uint64_t cols,
                             int64_t ld) {
  if (l == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  if (!known_type(type)) return CUBLAS_STATUS_NOT_SUPPORTED;
  *l = opaque<cublasLtMatrixLayoutOpaque_t>(new Layout{type, rows, cols, ld});
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t layout_destroy(cublasLtMatrixLayout_t l) {
  delete layout(l);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t layout_set(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t attribute, const void* buf,
                          size_t size) {
  if (l == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  switch (attribute) {
    case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT: {
      int32_t count;
      if (cublasStatus_t s = read_attribute(buf, size, &count)) return s;
      if (count < 1) return CUBLAS_STATUS_INVALID_VALUE;
      layout(l)->batch = count;
      return CUBLAS_STATUS_SUCCESS;
    }
    case CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET:
      return read_attribute(buf, size, &layout(l)->stride);
    case CUBLASLT_MATRIX_LAYOUT_ORDER: {
      int32_t order;
      if (cublasStatus_t s = read_attribute(buf, size, &order)) return s;
      return order == CUBLASLT_ORDER_COL ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_SUPPORTED;
    }
    default: return CUBLAS_STATUS_NOT_SUPPORTED;
  }
}

cublasStatus_t pref_create(cublasLtMatmulPreference_t* p) {
  if (p == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *p = opaque<cublasLtMatmulPreferenceOpaque_t>(new Pref);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t pref_destroy(cublasLtMatmulPreference_t p) {
  delete pref(p);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t pref_set(cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t attribute,
                        const void* buf, size_t size) {
  if (p == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  switch (attribute) {
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES: return read_attribute(buf, size, &pref(p)->max_workspace);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES: {
      uint32_t bytes;
      if (cublasStatus_t s = read_attribute(buf, size, &bytes)) return s;
      if (bytes == 0 || (bytes & (bytes - 1)) != 0) return CUBLAS_STATUS_INVALID_VALUE;
      pref(p)->alignment[attribute - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES] = bytes;
      return CUBLAS_STATUS_SUCCESS;
    }
    default: return CUBLAS_STATUS_NOT_SUPPORTED;
  }
}

// The one algorithm: it records the alignment each operand's pointer is assumed to have.
cublasStatus_t heuristic(cublasLtHandle_t handle, cublasLtMatmulDesc_t op, cublasLtMatrixLayout_t a,
                         cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                         cublasLtMatmulPreference_t p, int requested, cublasLtMatmulHeuristicResult_t results[],
                         int* count) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!op || !a || !b || !c || !d || !p || requested < 1 || !results || !count) return CUBLAS_STATUS_INVALID_VALUE;
  *count = 0;
  {
    std::lock_guard<std::mutex> lock(observed_mutex);
    for (int i = 0; i < 4; ++i) last.min_alignment[i] = pref(p)->alignment[i];
    last.max_workspace_bytes = pref(p)->max_workspace;
    ++last.heuristic_calls;
  }
  if (cublasStatus_t s = check_problem(*desc(op), *layout(a), *layout(b), *layout(c), *layout(d))) return s;
  const Layout* layouts[4] = {layout(a), layout(b), layout(c), layout(d)};
  for (int i = 0; i < 4; ++i)
    if (pref(p)->alignment[i] < element_bytes(layouts[i]->type)) return CUBLAS_STATUS_NOT_SUPPORTED;
  cublasLtMatmulHeuristicResult_t r{};
  r.algo.data[0] = kAlgoTag;
  for (int i = 0; i < 4; ++i) {
    const uint64_t promised = pref(p)->alignment[i], kept = layout_alignment(*layouts[i]);
    r.algo.data[1 + i] = promised < kept ? promised : kept;
  }
  r.workspaceSize = 0;
  r.state = CUBLAS_STATUS_SUCCESS;
  r.wavesCount = 1.0f;
  results[0] = r;
  *count = 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t matmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t op, const void* alpha, const void* a_ptr,
                      cublasLtMatrixLayout_t a_desc, const void* b_ptr, cublasLtMatrixLayout_t b_desc,
                      const void* beta, const void* c_ptr, cublasLtMatrixLayout_t c_desc, void* d_ptr,
                      cublasLtMatrixLayout_t d_desc, const cublasLtMatmulAlgo_t* algo, void* workspace,
                      size_t workspace_bytes, cudaStream_t stream) {
  (void)workspace;
  (void)workspace_bytes;
  (void)stream;
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!op || !alpha || !beta || !a_desc || !b_desc || !c_desc || !d_desc) return CUBLAS_STATUS_INVALID_VALUE;
  const Desc& dd = *desc(op);
  const Layout &a = *layout(a_desc), &b = *layout(b_desc), &c = *layout(c_desc), &d = *layout(d_desc);
  if (cublasStatus_t s = check_problem(dd, a, b, c, d)) return s;
  {
    std::lock_guard<std::mutex> lock(observed_mutex);
    ++last.matmul_calls;
  }
  float alpha_f, beta_f;
  std::memcpy(&alpha_f, alpha, 4);
  std::memcpy(&beta_f, beta, 4);
  const void* pointers[4] = {a_ptr, b_ptr, c_ptr, d_ptr};
  const Layout* layouts[4] = {&a, &b, &c, &d};
  // Without an algorithm the library chooses one under the default (256-byte) promise.
  uint64_t default_alignment[4];
  for (int i = 0; i < 4; ++i) default_alignment[i] = layout_alignment(*layouts[i]);
  const uint64_t* required = default_alignment;
  if (algo != nullptr) {
    if (algo->data[0] != kAlgoTag) return CUBLAS_STATUS_INVALID_VALUE;
    required = &algo->data[1];
  }
  for (int i = 0; i < 4; ++i)
    for (int64_t item = 0; item < c.batch; ++item)
      if (!aligned(at(pointers[i], *layouts[i], item, 0, 0), required[i])) return CUBLAS_STATUS_NOT_SUPPORTED;
  uint64_t m, k, k2, n;
  op_shape(a, dd.trans_a, &m, &k);
  op_shape(b, dd.trans_b, &k2, &n);
  std::vector<double> out(m * n);
  for (int64_t item = 0; item < c.batch; ++item) {
    for (uint64_t j = 0; j < n; ++j)
      for (uint64_t i = 0; i < m; ++i) {
        double sum = 0;
        for (uint64_t p = 0; p < k; ++p) {
          const double x = dd.trans_a == CUBLAS_OP_N ? load(a.type, at(a_ptr, a, item, i, p))
                                                      : load(a.type, at(a_ptr, a, item, p, i));
          const double y = dd.trans_b == CUBLAS_OP_N ? load(b.type, at(b_ptr, b, item, p, j))
                                                      : load(b.type, at(b_ptr, b, item, j, p));
          sum += x * y;
        }
        double v = double(alpha_f) * sum;
        if (beta_f != 0.0f) v += double(beta_f) * load(c.type, at(c_ptr, c, item, i, j));
        out[j * m + i] = v;
      }
    // Written after every C element of the item was read: D may be C.
    for (uint64_t j = 0; j < n; ++j)
      for (uint64_t i = 0; i < m; ++i)
        store(d.type, const_cast<unsigned char*>(at(d_ptr, d, item, i, j)), out[j * m + i]);
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

wpm::CublasLtApi api() {
  wpm::CublasLtApi t{};
  t.create = create;
  t.destroy = destroy;
  t.desc_create = desc_create;
  t.desc_destroy = desc_destroy;
  t.desc_set = desc_set;
  t.layout_create = layout_create;
  t.layout_destroy = layout_destroy;
  t.layout_set = layout_set;
  t.pref_create = pref_create;
  t.pref_destroy = pref_destroy;
  t.pref_set = pref_set;
  t.heuristic = heuristic;
  t.matmul = matmul;
  return t;
}

Observed observed() {
  std::lock_guard<std::mutex> lock(observed_mutex);
  return last;
}

void reset_observed() {
  std::lock_guard<std::mutex> lock(observed_mutex);
  last = Observed{};
}

}  // namespace fake_cublaslt
