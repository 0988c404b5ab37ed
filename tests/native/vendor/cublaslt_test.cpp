// The cuda backend's GEMM host code (native/src/cuda/cublaslt.cpp) against the fake cuBLASLt: the C ABI's
// row-major problems, mapped onto cuBLASLt's column-major ones, must give a float64 reference's answer for every
// transpose, dtype, padded ld, view at an element offset and stride-0 batch. Inputs are small integers, so the
// products and sums are exact in every dtype and any misplaced element shows. Built where the CUDA toolkit's
// cublasLt.h is found (cmake/Tests.cmake).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fake_cublaslt.h"
#include "half.h"

namespace {

using wpm::GemmArgs;

// Host memory standing in for device memory, 256-byte aligned as cudaMalloc's.
class Arena {
 public:
  explicit Arena(size_t bytes) : base_(static_cast<unsigned char*>(std::aligned_alloc(256, (bytes + 255) / 256 * 256))) {}
  ~Arena() { std::free(base_); }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  unsigned char* at(size_t byte) const { return base_ + byte; }

 private:
  unsigned char* base_;
};

size_t dtype_bytes(wpm_dtype dtype) { return dtype == WPM_F32 ? 4 : 2; }

void put(wpm_dtype dtype, void* base, int64_t index, float v) {
  auto* p = static_cast<unsigned char*>(base) + index * int64_t(dtype_bytes(dtype));
  if (dtype == WPM_F32) {
    std::memcpy(p, &v, 4);
  } else {
    const uint16_t h = dtype == WPM_F16 ? wpm::float_to_f16(v) : wpm::float_to_bf16(v);
    std::memcpy(p, &h, 2);
  }
}

float get(wpm_dtype dtype, const void* base, int64_t index) {
  const auto* p = static_cast<const unsigned char*>(base) + index * int64_t(dtype_bytes(dtype));
  if (dtype == WPM_F32) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return dtype == WPM_F16 ? wpm::f16_to_float(h) : wpm::bf16_to_float(h);
}

class FakeCublas {
 public:
  FakeCublas() : api_(fake_cublaslt::api()), workspace_(1 << 16) {
    cublasLtHandle_t handle = nullptr;
    EXPECT_EQ(api_.create(&handle), CUBLAS_STATUS_SUCCESS);
    cublas_ = std::make_unique<wpm::Cublas>(api_, handle, workspace_.data(), workspace_.size());
  }
  wpm_status gemm(const GemmArgs& g) { return cublas_->gemm(g, nullptr); }
  size_t cached_plans() const { return cublas_->cached_plans(); }

 private:
  wpm::CublasLtApi api_;
  std::vector<unsigned char> workspace_;
  std::unique_ptr<wpm::Cublas> cublas_;
};

struct Case {
  wpm_dtype dtype;
  bool trans_a, trans_b;
  int64_t batch;
  int64_t offset;   // elements each operand starts past a 256-byte boundary
  int64_t pad;      // ld = row length + pad
  int a_repeats;    // stride_a 0: every batch item reads the same A
  int b_repeats;
};

std::string describe(const Case& c) {
  return std::string(c.dtype == WPM_F32 ? "f32" : c.dtype == WPM_F16 ? "f16" : "bf16") + " trans_a " +
         std::to_string(c.trans_a) + " trans_b " + std::to_string(c.trans_b) + " batch " + std::to_string(c.batch) +
         " offset " + std::to_string(c.offset) + " pad " + std::to_string(c.pad) + " stride_a 0: " +
         std::to_string(c.a_repeats) + " stride_b 0: " + std::to_string(c.b_repeats);
}

// Runs one row-major problem through Cublas::gemm and checks every element of C against the reference.
void check(const Case& c) {
  SCOPED_TRACE(describe(c));
  // ld and batch strides stay multiples of 8 bytes, so an operand's alignment is set by its pointer: a view at
  // an odd element offset is less aligned than cuBLASLt's default promise.
  const int64_t m = 6, n = 8, k = 12;
  const wpm_dtype t = c.dtype;
  // Stored row-major shapes.
  const int64_t a_rows = c.trans_a ? k : m, a_cols = c.trans_a ? m : k;
  const int64_t b_rows = c.trans_b ? n : k, b_cols = c.trans_b ? k : n;
  const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = n + c.pad;
  const int64_t a_item = a_rows * lda, b_item = b_rows * ldb, c_item = m * ldc;
  const int64_t stride_a = c.a_repeats ? 0 : a_item, stride_b = c.b_repeats ? 0 : b_item, stride_c = c_item;
  const size_t region = size_t(c.batch * (a_item + b_item + c_item) + 64) * dtype_bytes(t) + 1024;
  Arena arena(region * 3);
  void* a = arena.at(size_t(c.offset) * dtype_bytes(t));
  void* b = arena.at(region + size_t(c.offset) * dtype_bytes(t));
  void* cc = arena.at(2 * region + size_t(c.offset) * dtype_bytes(t));
  auto value = [](int64_t i, int salt) { return float((i * 7 + salt * 3) % 5 - 2); };  // -2..2
  for (int64_t i = 0; i < c.batch * a_item; ++i) put(t, a, i, value(i, 1));
  for (int64_t i = 0; i < c.batch * b_item; ++i) put(t, b, i, value(i, 2));
  for (int64_t i = 0; i < c.batch * c_item; ++i) put(t, cc, i, value(i, 3));
  const float alpha = 2.0f, beta = -1.0f;

  // The reference, from the row-major definition C = alpha op(A) op(B) + beta C.
  std::vector<double> expected(size_t(c.batch * m * n));
  for (int64_t item = 0; item < c.batch; ++item)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p) {
          const double x = get(t, a, item * stride_a + (c.trans_a ? p * lda + i : i * lda + p));
          const double y = get(t, b, item * stride_b + (c.trans_b ? j * ldb + p : p * ldb + j));
          sum += x * y;
        }
        expected[size_t((item * m + i) * n + j)] = alpha * sum + beta * get(t, cc, item * stride_c + i * ldc + j);
      }

  const GemmArgs args{c.trans_a, c.trans_b, m, n, k, c.batch, alpha, beta, a, b, cc,
                      lda, ldb, ldc, stride_a, stride_b, stride_c, t};
  FakeCublas cublas;
  ASSERT_EQ(cublas.gemm(args), WPM_OK);
  for (int64_t item = 0; item < c.batch; ++item)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        ASSERT_EQ(get(t, cc, item * stride_c + i * ldc + j), expected[size_t((item * m + i) * n + j)])
            << "item " << item << " row " << i << " col " << j;
}

TEST(CublasLtGemm, EveryTransposeAndDtypeMatchesTheReference) {
  for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) check({dtype, ta, tb, 1, 0, 0, 0, 0});
}

TEST(CublasLtGemm, PaddedLeadingDimensionsAndUnalignedViews) {
  for (wpm_dtype dtype : {WPM_F32, WPM_F16, WPM_BF16})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (int64_t offset : {1, 3}) check({dtype, ta, tb, 1, offset, 4, 0, 0});
}

TEST(CublasLtGemm, StridedBatchesIncludingBroadcastOperands) {
  for (wpm_dtype dtype : {WPM_F32, WPM_BF16})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check({dtype, ta, tb, 3, 0, 0, 0, 0});
        check({dtype, ta, tb, 3, 1, 4, 1, 0});
        check({dtype, ta, tb, 3, 3, 0, 0, 1});
      }
}

// The alignment preferences describe the pointers: cuBLASLt's A is the C ABI's B and its B is our A.
TEST(CublasLtGemm, TheAlignmentPreferenceIsEachPointersLargestPowerOfTwo) {
  Arena arena(1 << 16);
  std::vector<float> zeros(64, 0.0f);
  float* a = reinterpret_cast<float*>(arena.at(4));          // 4 bytes past 256
  float* b = reinterpret_cast<float*>(arena.at(4096 + 32));  // 32 past
  float* c = reinterpret_cast<float*>(arena.at(8192));       // 256-aligned
  std::memcpy(a, zeros.data(), 64 * 4);
  std::memcpy(b, zeros.data(), 64 * 4);
  const GemmArgs args{false, false, 4, 4, 4, 1, 1.0f, 0.0f, a, b, c, 4, 4, 4, 0, 0, 0, WPM_F32};
  fake_cublaslt::reset_observed();
  FakeCublas cublas;
  ASSERT_EQ(cublas.gemm(args), WPM_OK);
  const fake_cublaslt::Observed seen = fake_cublaslt::observed();
  EXPECT_EQ(seen.heuristic_calls, 1);
  EXPECT_EQ(seen.matmul_calls, 1);
  EXPECT_EQ(seen.min_alignment[0], 32u);   // cuBLASLt's A: our b
  EXPECT_EQ(seen.min_alignment[1], 4u);    // cuBLASLt's B: our a
  EXPECT_EQ(seen.min_alignment[2], 256u);  // C
  EXPECT_EQ(seen.min_alignment[3], 256u);  // D
  EXPECT_EQ(seen.max_workspace_bytes, uint64_t(1 << 16));
}

// The descriptors, layouts and heuristic are asked for once per shape: a repeated GEMM reuses the plan (and still
// computes with the new operands), a new shape or a differently aligned pointer gets a plan of its own, and the
// context keeps at most kPlanCapacity of them.
TEST(CublasLtGemm, APlanIsBuiltOncePerShapeAndAlignmentThenReused) {
  Arena arena(1 << 16);
  float* a = reinterpret_cast<float*>(arena.at(0));
  float* b = reinterpret_cast<float*>(arena.at(4096));
  float* c = reinterpret_cast<float*>(arena.at(8192));
  const float ones[4] = {1, 1, 1, 1}, twos[4] = {2, 2, 2, 2};
  std::memcpy(a, ones, sizeof ones);
  std::memcpy(b, ones, sizeof ones);
  const GemmArgs args{false, false, 2, 2, 2, 1, 1.0f, 0.0f, a, b, c, 2, 2, 2, 0, 0, 0, WPM_F32};
  fake_cublaslt::reset_observed();
  FakeCublas cublas;
  ASSERT_EQ(cublas.gemm(args), WPM_OK);
  EXPECT_EQ(c[0], 2.0f);
  std::memcpy(a, twos, sizeof twos);
  ASSERT_EQ(cublas.gemm(args), WPM_OK);
  EXPECT_EQ(c[0], 4.0f);
  EXPECT_EQ(fake_cublaslt::observed().heuristic_calls, 1);
  EXPECT_EQ(fake_cublaslt::observed().matmul_calls, 2);
  EXPECT_EQ(cublas.cached_plans(), 1u);

  GemmArgs shifted = args;
  shifted.a = arena.at(16);  // 16-byte aligned: another promise, another plan
  std::memcpy(arena.at(16), twos, sizeof twos);
  ASSERT_EQ(cublas.gemm(shifted), WPM_OK);
  EXPECT_EQ(fake_cublaslt::observed().heuristic_calls, 2);
  EXPECT_EQ(fake_cublaslt::observed().min_alignment[1], 16u);
  ASSERT_EQ(cublas.gemm(args), WPM_OK);
  EXPECT_EQ(fake_cublaslt::observed().heuristic_calls, 2);

  GemmArgs wider = args;
  for (int64_t k = 3; k < int64_t(wpm::Cublas::kPlanCapacity) + 8; ++k) {
    wider.k = 1;
    wider.m = k;  // m x 1 times 1 x 2: a new shape each time, inside the arena
    wider.lda = 1;
    ASSERT_EQ(cublas.gemm(wider), WPM_OK);
  }
  EXPECT_EQ(cublas.cached_plans(), wpm::Cublas::kPlanCapacity);
}

// ---------------------------------------------------------------- the fake itself, by hand

struct Handles {
  wpm::CublasLtApi api = fake_cublaslt::api();
  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t layout = nullptr;  // one 2x2 f32 layout for A, B, C and D
  cublasLtMatmulPreference_t pref = nullptr;
  Handles(int64_t ld = 2) {
    EXPECT_EQ(api.create(&handle), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(api.desc_create(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(api.layout_create(&layout, CUDA_R_32F, 2, 2, ld), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(api.pref_create(&pref), CUBLAS_STATUS_SUCCESS);
  }
  ~Handles() {
    api.pref_destroy(pref);
    api.layout_destroy(layout);
    api.desc_destroy(op);
    api.destroy(handle);
  }
  cublasStatus_t heuristic(cublasLtMatmulHeuristicResult_t* result, int* found) {
    return api.heuristic(handle, op, layout, layout, layout, layout, pref, 1, result, found);
  }
  cublasStatus_t matmul(const float* a, const float* b, float* d, const cublasLtMatmulAlgo_t* algo) {
    const float alpha = 1.0f, beta = 0.0f;
    return api.matmul(handle, op, &alpha, a, layout, b, layout, &beta, d, layout, d, layout, algo, nullptr, 0,
                      nullptr);
  }
};

TEST(FakeCublasLt, MultipliesColumnMajorMatricesWithTransposes) {
  Handles h;
  Arena arena(1024);
  auto* a = reinterpret_cast<float*>(arena.at(0));
  auto* b = reinterpret_cast<float*>(arena.at(256));
  auto* d = reinterpret_cast<float*>(arena.at(512));
  const float a_cols[4] = {1, 3, 2, 4}, b_cols[4] = {5, 7, 6, 8};  // A = [1 2; 3 4], B = [5 6; 7 8]
  std::memcpy(a, a_cols, sizeof a_cols);
  std::memcpy(b, b_cols, sizeof b_cols);
  ASSERT_EQ(h.matmul(a, b, d, nullptr), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(std::vector<float>(d, d + 4), (std::vector<float>{19, 43, 22, 50}));  // AB = [19 22; 43 50]
  const cublasOperation_t t = CUBLAS_OP_T;
  ASSERT_EQ(h.api.desc_set(h.op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(h.matmul(a, b, d, nullptr), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(std::vector<float>(d, d + 4), (std::vector<float>{26, 38, 30, 44}));  // A^T B = [26 30; 38 44]
}

TEST(FakeCublasLt, APointerLessAlignedThanThePreferencePromisedIsNotSupported) {
  Handles h;
  Arena arena(1024);
  std::vector<float> zeros(8, 0.0f);
  auto* a = reinterpret_cast<float*>(arena.at(4));  // 4-byte aligned only
  auto* b = reinterpret_cast<float*>(arena.at(256));
  auto* d = reinterpret_cast<float*>(arena.at(512));
  std::memcpy(a, zeros.data(), 16);
  std::memcpy(b, zeros.data(), 16);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  ASSERT_EQ(h.heuristic(&result, &found), CUBLAS_STATUS_SUCCESS);  // the default promise: 256 bytes
  ASSERT_EQ(found, 1);
  EXPECT_EQ(h.matmul(a, b, d, &result.algo), CUBLAS_STATUS_NOT_SUPPORTED);
  const uint32_t four = 4;
  ASSERT_EQ(h.api.pref_set(h.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &four, sizeof four),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(h.heuristic(&result, &found), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(h.matmul(a, b, d, &result.algo), CUBLAS_STATUS_SUCCESS);
  // A promise below the element size: no algorithm.
  const uint32_t two = 2;
  ASSERT_EQ(h.api.pref_set(h.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &two, sizeof two),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(h.heuristic(&result, &found), CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(found, 0);
}

TEST(FakeCublasLt, ALeadingDimensionBelowTheRowCountOrAWrongAttributeSizeIsInvalid) {
  Handles h(1);  // ld 1 < 2 rows
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  EXPECT_EQ(h.heuristic(&result, &found), CUBLAS_STATUS_INVALID_VALUE);
  const int64_t wide = CUBLAS_OP_T;  // TRANSA is an int32_t
  EXPECT_EQ(h.api.desc_set(h.op, CUBLASLT_MATMUL_DESC_TRANSA, &wide, sizeof wide), CUBLAS_STATUS_INVALID_VALUE);
}

}  // namespace
