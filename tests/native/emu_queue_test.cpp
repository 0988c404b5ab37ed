// The emu backend's queue modes (WORLDPM_EMU_QUEUE): host ordering bugs planted
// here must change the result in deferred mode, where launches wait on a stream
// until the next synchronising call as on a GPU, and must not in immediate mode,
// where every launch has finished when it returns. CTest runs this suite in both
// modes (emu.deferred_queue sets the variable); each test asks which one it is in.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;

bool deferred_mode() {
  const char* mode = std::getenv("WORLDPM_EMU_QUEUE");
  return mode != nullptr && std::string(mode) == "deferred";
}

class EmuContext : public Context {
 public:
  EmuContext() : Context(2, WPM_BACKEND_EMU) {}
};

float* device_floats(const Buffer& buffer) {
  void* p = nullptr;
  EXPECT_EQ(wpm_buffer_device_pointer(buffer, &p), WPM_OK) << wpm_last_error();
  return static_cast<float*>(p);
}

std::vector<float> ramp(size_t n, float sign) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = sign * float(i + 1);
  return v;
}

constexpr size_t kCount = 257;  // more than one block of the elementwise kernels

TEST(EmuQueue, AResultReadWithoutSynchronizingIsPoisonOnlyWhenDeferred) {
  EmuContext ctx;
  Buffer out(ctx, WPM_F32, kCount);
  ASSERT_EQ(wpm_buffer_fill(out, 3.0), WPM_OK) << wpm_last_error();
  // The planted bug: the host reads the device memory before synchronising.
  std::vector<float> early(device_floats(out), device_floats(out) + kCount);
  for (size_t i = 0; i < kCount; ++i) {
    if (deferred_mode()) {
      uint32_t bits;
      std::memcpy(&bits, &early[i], 4);
      EXPECT_EQ(bits, 0xFFFFFFFFu) << i;  // fresh device memory, the fill still queued
    } else {
      EXPECT_EQ(early[i], 3.0f) << i;
    }
  }
  // A synchronising read sees the fill in either mode.
  for (float v : out.download()) EXPECT_EQ(v, 3.0f);
}

TEST(EmuQueue, AnInputRewrittenBeforeItsKernelRanChangesTheResultOnlyWhenDeferred) {
  EmuContext ctx;
  Buffer x(ctx, WPM_F32, ramp(kCount, 1.0f)), out(ctx, WPM_F32, kCount);
  ASSERT_EQ(wpm_synchronize(ctx), WPM_OK) << wpm_last_error();  // the upload is queued too: let it land first
  ASSERT_EQ(wpm_relu_fwd(ctx, x, out, int64_t(kCount)), WPM_OK) << wpm_last_error();
  // The planted bug: the input, like a staging buffer, is refilled by the host before the kernel
  // that reads it is known to have run.
  const std::vector<float> negative = ramp(kCount, -1.0f);
  std::memcpy(device_floats(x), negative.data(), kCount * sizeof(float));
  const std::vector<float> got = out.download();
  for (size_t i = 0; i < kCount; ++i) EXPECT_EQ(got[i], deferred_mode() ? 0.0f : float(i + 1)) << i;
}

TEST(EmuQueue, ABufferFreedAfterItsKernelWasQueuedLivesUntilTheKernelRan) {
  EmuContext ctx;
  Buffer out(ctx, WPM_F32, kCount);
  {
    Buffer x(ctx, WPM_F32, ramp(kCount, 1.0f));
    ASSERT_EQ(wpm_relu_fwd(ctx, x, out, int64_t(kCount)), WPM_OK) << wpm_last_error();
  }  // released while the relu may still be queued: stream-ordered, so legal
  const std::vector<float> got = out.download();
  for (size_t i = 0; i < kCount; ++i) EXPECT_EQ(got[i], float(i + 1)) << i;
}

TEST(EmuQueue, DeviceCopiesAndGemmsKeepStreamOrder) {
  EmuContext ctx;
  // out = relu(copy of x) @ I: a copy, a kernel and a GEMM, each reading what the one before wrote.
  const int64_t n = 16;
  std::vector<float> values(size_t(n * n)), identity(size_t(n * n), 0.0f);
  for (int64_t i = 0; i < n * n; ++i) values[size_t(i)] = float(i % 7) - 3.0f;
  for (int64_t i = 0; i < n; ++i) identity[size_t(i * n + i)] = 1.0f;
  Buffer x(ctx, WPM_F32, values), copy(ctx, WPM_F32, size_t(n * n)), relu(ctx, WPM_F32, size_t(n * n));
  Buffer eye(ctx, WPM_F32, identity), out(ctx, WPM_F32, size_t(n * n));
  ASSERT_EQ(wpm_buffer_copy(copy, x), WPM_OK) << wpm_last_error();
  ASSERT_EQ(wpm_relu_fwd(ctx, copy, relu, n * n), WPM_OK) << wpm_last_error();
  wpm_gemm_params gemm{sizeof(wpm_gemm_params)};
  gemm.a = relu;
  gemm.b = eye;
  gemm.c = out;
  gemm.m = gemm.n = gemm.k = n;
  gemm.alpha = 1.0f;
  gemm.batch = 1;
  ASSERT_EQ(wpm_gemm(ctx, &gemm), WPM_OK) << wpm_last_error();
  const std::vector<float> got = out.download();
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(got[i], values[i] > 0 ? values[i] : 0.0f) << i;
}

// The embedding backward's segment sum states a minimum that counts the distinct ids, device data the launcher
// cannot read when it is called (deferred: the ids' upload and the sort are still queued then); the emulator
// works it out when the launch runs. Wrong in deferred mode if it were worked out at the call.
TEST(EmuQueue, AMinimumThatDependsOnDeviceDataSeesTheDataItsLaunchRanWith) {
  EmuContext ctx;
  const int64_t n = 300, vocab = 64, c = 40;
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) ids[size_t(t)] = int32_t((t * 7 + t / 5) % 41);
  const double distinct = double(std::set<int32_t>(ids.begin(), ids.end()).size());
  Buffer id_buffer(ctx, WPM_I32, size_t(n)), dout(ctx, WPM_F32, ramp(size_t(n * c), 1.0f)),
      dtable(ctx, WPM_F32, std::vector<float>(size_t(vocab * c), 0.0f));
  ASSERT_EQ(wpm_context_profile(ctx, 1), WPM_OK) << wpm_last_error();
  id_buffer.upload_i32(ids);
  ASSERT_EQ(wpm_embedding_bwd(ctx, id_buffer, dout, dtable, n, vocab, c), WPM_OK) << wpm_last_error();
  std::vector<wpm_kernel_profile> rows(16);
  for (wpm_kernel_profile& row : rows) row.struct_size = sizeof(wpm_kernel_profile);
  size_t count = 0;
  ASSERT_EQ(wpm_context_profile_kernels(ctx, rows.data(), rows.size(), &count), WPM_OK) << wpm_last_error();
  ASSERT_EQ(wpm_context_profile(ctx, 0), WPM_OK) << wpm_last_error();
  bool found = false;
  for (size_t i = 0; i < count && i < rows.size(); ++i) {
    if (std::string(rows[i].kernel).rfind("embedding_segment_sum_kernel", 0) != 0) continue;
    found = true;
    // dout and the 8-byte sorted keys read once; each distinct id's dtable row read and written once.
    EXPECT_EQ(double(rows[i].min_bytes), 4.0 * double(n * c) + 8.0 * double(n) + 2.0 * 4.0 * distinct * double(c));
  }
  EXPECT_TRUE(found) << "no embedding_segment_sum_kernel row among " << count;
}

TEST(EmuQueue, AnUnknownModeMakesTheBackendUnavailableNamingTheVariable) {
  const char* saved = std::getenv("WORLDPM_EMU_QUEUE");
  const std::string restore = saved ? saved : "";
  setenv("WORLDPM_EMU_QUEUE", "sideways", 1);
  wpm_backend_info info{sizeof(wpm_backend_info)};
  const wpm_status status = wpm_backend_query(WPM_BACKEND_EMU, &info);
  const int available = info.available;
  const std::string reason = info.reason;
  if (saved) setenv("WORLDPM_EMU_QUEUE", restore.c_str(), 1);
  else unsetenv("WORLDPM_EMU_QUEUE");
  ASSERT_EQ(status, WPM_OK) << wpm_last_error();
  EXPECT_FALSE(available);
  EXPECT_NE(reason.find("WORLDPM_EMU_QUEUE"), std::string::npos) << reason;
  EXPECT_NE(reason.find("sideways"), std::string::npos) << reason;
}

}  // namespace
