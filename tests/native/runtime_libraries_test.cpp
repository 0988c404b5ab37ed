// The library without oneDNN and MPI installed: both are opened at run time,
// so a missing one must leave the library loading and working, be named by the
// info calls (what `worldpm info` prints), and make the call that needs it
// fail with a status and a message saying what to install.
//
// ctest library.without_onednn_and_mpi runs these with WORLDPM_ONEDNN_LIBRARY
// and WORLDPM_MPI_LIBRARY naming a missing file (read on first use, so they
// must be set before the process touches either library); run without them,
// as in the plain suite, they skip.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "test_util.h"

namespace {

using namespace wpm_test;

// The override's value when it names a file that does not exist, else null.
const char* missing_override(const char* variable) {
  const char* path = std::getenv(variable);
  struct stat st;
  if (path == nullptr || *path == '\0' || stat(path, &st) == 0) return nullptr;
  return path;
}

class MissingRuntimeLibraries : public ::testing::Test {
 protected:
  void SetUp() override {
    onednn = missing_override("WORLDPM_ONEDNN_LIBRARY");
    mpi = missing_override("WORLDPM_MPI_LIBRARY");
    if (onednn == nullptr || mpi == nullptr)
      GTEST_SKIP() << "set WORLDPM_ONEDNN_LIBRARY and WORLDPM_MPI_LIBRARY to missing files (ctest "
                      "library.without_onednn_and_mpi does)";
  }
  const char* onednn = nullptr;
  const char* mpi = nullptr;
};

TEST_F(MissingRuntimeLibraries, CpuBackendStillWorksAndSaysOnednnIsUnavailable) {
  wpm_backend_info info{sizeof info};
  WPM_ASSERT_OK(wpm_backend_query(WPM_BACKEND_CPU, &info));
  EXPECT_EQ(info.available, 1) << info.reason;
  const std::string reason = info.reason;
  // Forced or not, bf16 GEMMs take the converting path and the reason says why.
  EXPECT_NE(reason.find("bf16 GEMM: OpenBLAS sgemm on f32 copies (oneDNN unavailable: "), std::string::npos) << reason;
  EXPECT_NE(reason.find(onednn), std::string::npos) << "names the file it tried: " << reason;

  // A bf16 GEMM, asked to run on oneDNN, still runs (converting) and is right.
  setenv("WORLDPM_BF16_GEMM", "onednn", 1);
  Context ctx;
  unsetenv("WORLDPM_BF16_GEMM");
  ASSERT_NE(ctx.get(), nullptr);
  Buffer a(ctx, WPM_BF16, {1, 2, 3, 4}), b(ctx, WPM_BF16, {5, 6, 7, 8}), c(ctx, WPM_BF16, 4);
  wpm_gemm_params p{};
  p.struct_size = sizeof p;
  p.batch = 1, p.alpha = 1.0f, p.beta = 0.0f;
  p.m = p.n = p.k = 2, p.a = a, p.b = b, p.c = c;
  WPM_ASSERT_OK(wpm_gemm(ctx, &p));
  EXPECT_EQ(c.download(), (std::vector<float>{19, 22, 43, 50}));
}

TEST_F(MissingRuntimeLibraries, CommQuerySaysMpiIsUnavailable) {
  wpm_comm_info info{sizeof info};
  WPM_ASSERT_OK(wpm_comm_query(&info));
  const std::string text = info.mpi;
  if (info.mpi_built == 0) {
    EXPECT_NE(text.find("not built"), std::string::npos) << text;
    return;
  }
  EXPECT_EQ(text.rfind("unavailable: ", 0), 0u) << text;
  EXPECT_NE(text.find(mpi), std::string::npos) << "names the file it tried: " << text;
  EXPECT_NE(text.find("install"), std::string::npos) << "says what to install: " << text;
}

TEST_F(MissingRuntimeLibraries, CommCreateFailsWithAStatusNamingMpi) {
  Context ctx;
  ASSERT_NE(ctx.get(), nullptr);
  for (int attempt = 0; attempt < 2; ++attempt) {  // the second call reports the same, it does not retry or crash
    wpm_comm* comm = nullptr;
    wpm_status status = wpm_comm_create(ctx, nullptr, &comm);
    EXPECT_EQ(comm, nullptr);
    wpm_comm_info info{sizeof info};
    WPM_ASSERT_OK(wpm_comm_query(&info));
    wpm_status again = wpm_comm_create(ctx, nullptr, &comm);
    if (info.mpi_built == 0) {
      expect_error(again, WPM_ERR_BACKEND_UNAVAILABLE, "built without MPI");
    } else {
      expect_error(again, WPM_ERR_BACKEND_UNAVAILABLE, {"wpm_comm_create", "MPI is unavailable", mpi, "install"});
    }
    EXPECT_EQ(status, again);
  }
}

}  // namespace
