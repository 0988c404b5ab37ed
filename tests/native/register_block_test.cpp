// register_block::unpacked_sgemm (the attention's tile GEMM) against a host
// loop of fmaf in the documented order: every element the same bits, on each
// ISA the kernel picks (ctest also runs this binary with WORLDPM_CPU_MAX_ISA
// set). Sizes cross the 6-row and 64-column block edges; A is read as is and
// transposed, B and C with row strides wider than their columns, and every
// element of C outside the product must keep its poison (nothing written
// past the block, whatever was computed there). A and B also sit right
// before an inaccessible page, so a read past either one faults.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/register_block.h"

namespace {

struct Case {
  bool trans_a;
  int64_t m, n, k;
  float alpha, beta;
};

void check(const Case& t) {
  const int64_t lda = (t.trans_a ? t.m : t.k) + 3, ldb = t.n + 5, ldc = t.n + 7;
  std::mt19937 rng(uint32_t(t.m * 1000 + t.n * 10 + t.k));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(size_t((t.trans_a ? t.k : t.m) * lda)), b(size_t(t.k * ldb)), c(size_t(t.m * ldc));
  for (float& x : a) x = uniform(rng);
  for (float& x : b) x = uniform(rng);
  for (float& x : c) x = uniform(rng);
  const float poison = std::nanf("");
  for (int64_t i = 0; i < t.m; ++i)
    for (int64_t j = t.n; j < ldc; ++j) c[size_t(i * ldc + j)] = poison;
  const std::vector<float> before = c;

  wpm::register_block::unpacked_sgemm(t.trans_a, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(), ldb, t.beta,
                                      c.data(), ldc);

  int64_t differ = 0, touched = 0;
  for (int64_t i = 0; i < t.m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = c[size_t(i * ldc + j)];
      if (j >= t.n) {
        touched += std::memcmp(&got, &before[size_t(i * ldc + j)], 4) != 0;
        continue;
      }
      float acc = 0.0f;
      for (int64_t l = 0; l < t.k; ++l)
        acc = std::fmaf(t.trans_a ? a[size_t(l * lda + i)] : a[size_t(i * lda + l)], b[size_t(l * ldb + j)], acc);
      float want = t.alpha * acc;
      if (t.beta != 0.0f) want = std::fmaf(t.beta, before[size_t(i * ldc + j)], want);
      differ += std::memcmp(&want, &got, 4) != 0;
    }
  EXPECT_EQ(differ, 0) << "elements that are not the documented sequence; trans_a " << t.trans_a << " m " << t.m
                       << " n " << t.n << " k " << t.k << " beta " << t.beta;
  EXPECT_EQ(touched, 0) << "elements written past column n; m " << t.m << " n " << t.n;
}

// count floats that end where an inaccessible page begins.
class Guarded {
 public:
  explicit Guarded(size_t count) {
    const size_t page = size_t(sysconf(_SC_PAGESIZE)), used = (count * sizeof(float) + page - 1) / page * page;
    bytes_ = used + page;
    base_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base_ == MAP_FAILED || mprotect(static_cast<char*>(base_) + used, page, PROT_NONE) != 0) std::abort();
    data_ = reinterpret_cast<float*>(static_cast<char*>(base_) + used) - count;
  }
  ~Guarded() { munmap(base_, bytes_); }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;
  float* data() const { return data_; }

 private:
  void* base_;
  size_t bytes_;
  float* data_;
};

TEST(RegisterBlock, ReadsNothingPastItsOperands) {
  for (bool trans_a : {false, true})
    for (auto [m, n, k] : {std::array<int64_t, 3>{7, 17, 5}, {13, 63, 9}, {5, 64, 3}, {64, 33, 64}}) {
      Guarded a(size_t(m * k)), b(size_t(k * n));
      std::mt19937 rng(uint32_t(m + n + k));
      std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
      for (int64_t i = 0; i < m * k; ++i) a.data()[i] = uniform(rng);
      for (int64_t i = 0; i < k * n; ++i) b.data()[i] = uniform(rng);
      std::vector<float> c(size_t(m * n));
      wpm::register_block::unpacked_sgemm(trans_a, m, n, k, 1.0f, a.data(), trans_a ? m : k, b.data(), n, 0.0f,
                                          c.data(), n);
      double worst = 0;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double want = 0;
          for (int64_t l = 0; l < k; ++l)
            want += double(trans_a ? a.data()[l * m + i] : a.data()[i * k + l]) * double(b.data()[l * n + j]);
          worst = std::max(worst, std::abs(want - double(c[size_t(i * n + j)])));
        }
      EXPECT_LT(worst, 1e-4) << "trans_a " << trans_a << " m " << m << " n " << n << " k " << k;
    }
}

TEST(RegisterBlock, UnpackedSgemmIsTheDocumentedSequenceOfFmas) {
  for (bool trans_a : {false, true})
    for (float beta : {0.0f, 1.0f, -0.375f})
      for (auto [m, n, k] : {std::array<int64_t, 3>{64, 64, 64}, {1, 1, 1}, {5, 17, 3}, {7, 63, 64}, {13, 65, 40},
                             {64, 32, 64}, {6, 130, 9}, {3, 80, 0}})
        check({trans_a, m, n, k, 0.125f, beta});
}

}  // namespace
