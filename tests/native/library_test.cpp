// Library-level behaviour: version, status names, backend queries, contexts.
#include <cstdlib>
#include <cstring>
#include <string>

#include "test_util.h"

using namespace wpm_test;

TEST(Library, VersionMatchesHeader) {
  EXPECT_EQ(wpm_version(), uint32_t(WPM_VERSION));
  std::string expected = std::to_string(WPM_VERSION_MAJOR) + "." + std::to_string(WPM_VERSION_MINOR) + "." +
                         std::to_string(WPM_VERSION_PATCH);
  EXPECT_EQ(std::string(wpm_version_string()), expected);
}

TEST(Library, EveryStatusHasAName) {
  for (int s = WPM_OK; s <= WPM_ERR_INTERNAL; ++s)
    EXPECT_STRNE(wpm_status_name(static_cast<wpm_status>(s)), "unknown status") << s;
  EXPECT_STREQ(wpm_status_name(static_cast<wpm_status>(999)), "unknown status");
}

TEST(Library, CpuBackendIsAlwaysAvailable) {
  wpm_backend_info info{sizeof(wpm_backend_info)};
  WPM_ASSERT_OK(wpm_backend_query(WPM_BACKEND_CPU, &info));
  EXPECT_EQ(info.built, 1);
  EXPECT_EQ(info.available, 1);
}

TEST(Library, CudaWithoutDeviceIsReportedUnavailableWithReason) {
  wpm_backend_info info{sizeof(wpm_backend_info)};
  WPM_ASSERT_OK(wpm_backend_query(WPM_BACKEND_CUDA, &info));
  if (info.device_count == 0) {
    EXPECT_EQ(info.available, 0);
    EXPECT_GT(std::strlen(info.reason), 0u);
  }
}

TEST(Library, UnavailableBackendRefusesContextWithReason) {
  wpm_backend_info cuda{sizeof(wpm_backend_info)};
  WPM_ASSERT_OK(wpm_backend_query(WPM_BACKEND_CUDA, &cuda));
  if (cuda.available) GTEST_SKIP() << "a CUDA device is visible, so no backend is unavailable here";
  wpm_context_options options{sizeof(wpm_context_options), WPM_BACKEND_CUDA, 0, 0};
  wpm_context* ctx = reinterpret_cast<wpm_context*>(0x1);
  EXPECT_EQ(wpm_context_create(&options, &ctx), WPM_ERR_BACKEND_UNAVAILABLE);
  EXPECT_EQ(ctx, nullptr);
  EXPECT_NE(std::string(wpm_last_error()).find("cuda"), std::string::npos) << wpm_last_error();
  EXPECT_NE(std::string(wpm_last_error()).find(cuda.reason), std::string::npos) << wpm_last_error();
}

TEST(Library, EmuBackendIsBuiltAndStarts) {
  wpm_backend_info emu{sizeof(wpm_backend_info)};
  WPM_ASSERT_OK(wpm_backend_query(WPM_BACKEND_EMU, &emu));
  EXPECT_EQ(emu.built, 1) << emu.reason;
  EXPECT_EQ(emu.available, 1) << emu.reason;
  wpm_context_options options{sizeof(wpm_context_options), WPM_BACKEND_EMU, 2, 0};
  wpm_context* ctx = nullptr;
  WPM_ASSERT_OK(wpm_context_create(&options, &ctx));
  wpm_backend kind = WPM_BACKEND_AUTO;
  WPM_ASSERT_OK(wpm_context_backend(ctx, &kind));
  EXPECT_EQ(kind, WPM_BACKEND_EMU);
  WPM_ASSERT_OK(wpm_context_destroy(ctx));
}

namespace {
// With `variable` set to a bad `value`, creating an emu context fails naming both.
void expect_emu_context_refused(const char* variable, const char* value) {
  setenv(variable, value, 1);
  wpm_context_options options{sizeof(wpm_context_options), WPM_BACKEND_EMU, 0, 0};
  wpm_context* ctx = reinterpret_cast<wpm_context*>(0x1);
  const wpm_status status = wpm_context_create(&options, &ctx);
  const std::string message = wpm_last_error();
  unsetenv(variable);
  EXPECT_EQ(status, WPM_ERR_BACKEND_UNAVAILABLE);
  EXPECT_EQ(ctx, nullptr);
  EXPECT_NE(message.find(variable), std::string::npos) << message;
  EXPECT_NE(message.find(value), std::string::npos) << message;
}
}  // namespace

TEST(Library, EmuWithBadScheduleRefusesContextNamingTheVariable) {
  expect_emu_context_refused("WORLDPM_EMU_SCHEDULE", "sideways");
}

TEST(Library, EmuWithBadMmaAccumulationRefusesContextNamingTheVariable) {
  expect_emu_context_refused("WORLDPM_EMU_MMA", "rounded");
}

TEST(Library, BackendQueryRejectsSmallStruct) {
  wpm_backend_info info{4};
  EXPECT_EQ(wpm_backend_query(WPM_BACKEND_CPU, &info), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wpm_last_error()).find("struct_size"), std::string::npos);
}

TEST(Library, CpuFeaturesAreReported) {
  const char* features = nullptr;
  WPM_ASSERT_OK(wpm_cpu_features(&features));
  ASSERT_NE(features, nullptr);
  EXPECT_GT(std::strlen(features), 0u);
}

TEST(Context, AutoPicksCpuWithoutDevice) {
  wpm_backend_info cuda{sizeof(wpm_backend_info)};
  WPM_ASSERT_OK(wpm_backend_query(WPM_BACKEND_CUDA, &cuda));
  wpm_context* ctx = nullptr;
  WPM_ASSERT_OK(wpm_context_create(nullptr, &ctx));
  wpm_backend backend;
  WPM_ASSERT_OK(wpm_context_backend(ctx, &backend));
  EXPECT_EQ(backend, cuda.available ? WPM_BACKEND_CUDA : WPM_BACKEND_CPU);
  WPM_ASSERT_OK(wpm_context_destroy(ctx));
}

TEST(Context, ThreadCountIsHonoured) {
  Context ctx(3);
  int32_t threads = 0;
  WPM_ASSERT_OK(wpm_context_num_threads(ctx, &threads));
  EXPECT_EQ(threads, 3);
}

TEST(Context, DestroyedContextIsRejected) {
  wpm_context* ctx = nullptr;
  WPM_ASSERT_OK(wpm_context_create(nullptr, &ctx));
  WPM_ASSERT_OK(wpm_context_destroy(ctx));
  EXPECT_EQ(wpm_synchronize(ctx), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wpm_last_error()).find("context"), std::string::npos);
}

TEST(Context, BadOptionsAreNamed) {
  wpm_context* ctx = nullptr;
  wpm_context_options bad_backend{sizeof(wpm_context_options), static_cast<wpm_backend>(7), 0, 0};
  EXPECT_EQ(wpm_context_create(&bad_backend, &ctx), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wpm_last_error()).find("options.backend"), std::string::npos);
  wpm_context_options bad_threads{sizeof(wpm_context_options), WPM_BACKEND_CPU, -2, 0};
  EXPECT_EQ(wpm_context_create(&bad_threads, &ctx), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wpm_last_error()).find("options.num_threads"), std::string::npos);
  EXPECT_EQ(wpm_context_create(nullptr, nullptr), WPM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(wpm_last_error()).find("'context'"), std::string::npos);
}

TEST(Context, ErrorIsClearedBySuccessfulCheck) {
  EXPECT_EQ(wpm_context_create(nullptr, nullptr), WPM_ERR_INVALID_ARGUMENT);
  Context ctx;
  int32_t threads;
  WPM_ASSERT_OK(wpm_context_num_threads(ctx, &threads));
  EXPECT_STREQ(wpm_last_error(), "");
}
