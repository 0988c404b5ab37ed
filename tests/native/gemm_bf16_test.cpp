// The bf16 GEMM on each CPU path, forced with WORLDPM_BF16_GEMM: oneDNN's
// matmul (when built in) and OpenBLAS on f32 copies, which runs wherever
// oneDNN would be slower or is missing. Both against the float64 reference on
// bf16-rounded inputs: every transpose pair, alpha and beta (beta 0 over a
// poisoned C), batches with strides, gaps and broadcast A or B, leading
// dimensions with gaps, and odd sizes (1, 17, 255) that fit no kernel block.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "gemm_problem.h"
#include "test_util.h"

namespace {

using namespace wpm_test;

// A CPU context created with WORLDPM_BF16_GEMM set to one path (read at creation).
struct PathContext {
  explicit PathContext(const char* path) : forced(path) {
    setenv("WORLDPM_BF16_GEMM", path, 1);
    ctx = std::make_unique<Context>();
    unsetenv("WORLDPM_BF16_GEMM");
  }
  const char* forced;
  std::unique_ptr<Context> ctx;
};

std::string backend_reason() {
  wpm_backend_info info{sizeof info};
  EXPECT_EQ(WPM_OK, wpm_backend_query(WPM_BACKEND_CPU, &info));
  return info.reason;
}

// Built in and libdnnl.so.2 loadable here.
bool onednn_usable() {
  setenv("WORLDPM_BF16_GEMM", "onednn", 1);
  std::string reason = backend_reason();
  unsetenv("WORLDPM_BF16_GEMM");
  return reason.find("oneDNN not built in") == std::string::npos &&
         reason.find("oneDNN unavailable") == std::string::npos;
}

class Bf16Gemm : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string(GetParam()) == "onednn" && !onednn_usable()) GTEST_SKIP() << "oneDNN is not built in or not installed";
    path = std::make_unique<PathContext>(GetParam());
  }
  const Context& ctx() const { return *path->ctx; }
  void check(const GemmShape& s, uint32_t seed, bool poison_c = false) {
    GemmProblem(ctx(), s, WPM_BF16, seed, poison_c).check(ctx());
  }
  std::unique_ptr<PathContext> path;
};

TEST_P(Bf16Gemm, EveryTransposePairWithAlphaAndBeta) {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      SCOPED_TRACE("trans_a=" + std::to_string(ta) + " trans_b=" + std::to_string(tb));
      GemmShape s;
      s.ta = ta, s.tb = tb;
      s.m = 67, s.n = 45, s.k = 93, s.alpha = 0.75f, s.beta = -0.5f;
      check(s, 100 + 2 * ta + tb);
    }
}

TEST_P(Bf16Gemm, OddSizesThatFitNoBlock) {
  for (int64_t m : {1, 17, 255})
    for (int64_t n : {1, 17, 255})
      for (int64_t k : {1, 17, 255}) {
        SCOPED_TRACE("m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k));
        GemmShape s;
        s.tb = (m + n + k) % 2 == 1;  // both B orientations across the sizes
        s.m = m, s.n = n, s.k = k, s.beta = 1.0f;
        check(s, uint32_t(110 + m + 3 * n + 7 * k));
      }
}

TEST_P(Bf16Gemm, BetaZeroOverwritesPoisonedC) {
  GemmShape s;
  s.ta = true;
  s.m = 33, s.n = 64, s.k = 130, s.alpha = -1.5f;
  check(s, 120, /*poison_c=*/true);
}

TEST_P(Bf16Gemm, BatchesWithStridesGapsAndLeadingDimensions) {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      SCOPED_TRACE("trans_a=" + std::to_string(ta) + " trans_b=" + std::to_string(tb));
      GemmShape s;
      s.ta = ta, s.tb = tb;
      s.m = 31, s.n = 17, s.k = 64, s.batch = 5, s.alpha = 1.25f, s.beta = 0.5f;
      s.ld_extra = 3, s.gap = 5;
      check(s, 130 + 2 * ta + tb);
    }
}

TEST_P(Bf16Gemm, StrideZeroBroadcastsAOrB) {
  GemmShape s;
  s.m = 40, s.n = 24, s.k = 72, s.batch = 4, s.beta = 1.0f;
  s.broadcast_a = true;
  check(s, 140);
  s.broadcast_a = false, s.broadcast_b = true, s.tb = true;
  check(s, 141);
}

TEST_P(Bf16Gemm, ReferenceModelShapeWithWeightGradientAccumulation) {
  GemmShape s;  // dW += dy^T x at a projection of the reference model, fewer tokens
  s.ta = true;
  s.m = 128, s.n = 512, s.k = 300, s.beta = 1.0f;
  check(s, 150);
}

TEST_P(Bf16Gemm, TheForcedPathIsReported) {
  setenv("WORLDPM_BF16_GEMM", GetParam(), 1);
  std::string reason = backend_reason();
  unsetenv("WORLDPM_BF16_GEMM");
  EXPECT_NE(std::string::npos, reason.find("bf16 GEMM: ")) << reason;
  EXPECT_NE(std::string::npos, reason.find(std::string("WORLDPM_BF16_GEMM=") + GetParam())) << reason;
}

INSTANTIATE_TEST_SUITE_P(Paths, Bf16Gemm, ::testing::Values("onednn", "convert"),
                         [](const auto& info) { return std::string(info.param); });

TEST(Bf16GemmPath, TheAutomaticChoiceIsReportedWithItsReason) {
  std::string reason = backend_reason();
  size_t at = reason.find("bf16 GEMM: ");
  ASSERT_NE(std::string::npos, at) << reason;
  std::string path = reason.substr(at);
  EXPECT_TRUE(path.find("oneDNN") != std::string::npos || path.find("f32 copies (") != std::string::npos) << path;
}

}  // namespace
