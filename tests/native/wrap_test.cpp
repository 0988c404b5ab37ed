// Caller-owned memory (wpm_buffer_wrap, wpm_buffer_device_pointer): ops write
// straight into the caller's memory (no copy: the caller's array holds the
// result, the wrapper's device pointer is the caller's pointer), views of a
// wrapped buffer work, freeing never touches the memory, every misuse is
// refused with a message naming the argument; on emu, a device pointer taken
// from another buffer is wrapped and a host pointer is refused. The numbers are
// checked against float64 references written here.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::Context;
using wpm_test::expect_error;
using wpm_test::random_values;
using wpm_test::rel_error;

// GELU (tanh form) in float64, for the reference only.
std::vector<double> ref_gelu_tanh(const std::vector<float>& x) {
  const double k = std::sqrt(2.0 / M_PI);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    y[i] = 0.5 * v * (1.0 + std::tanh(k * (v + 0.044715 * v * v * v)));
  }
  return y;
}

// A wrapped buffer for one test; freed at scope end like the caller would.
class Wrapped {
 public:
  Wrapped(wpm_context* ctx, wpm_dtype dtype, void* pointer, size_t count) {
    status_ = wpm_buffer_wrap(ctx, dtype, pointer, count, &buf_);
    if (status_ != WPM_OK) ADD_FAILURE() << wpm_last_error();
  }
  ~Wrapped() { wpm_buffer_free(buf_); }
  Wrapped(const Wrapped&) = delete;
  Wrapped& operator=(const Wrapped&) = delete;
  operator wpm_buffer*() const { return buf_; }
  wpm_buffer* release() {
    wpm_buffer* b = buf_;
    buf_ = nullptr;
    return b;
  }

 private:
  wpm_buffer* buf_ = nullptr;
  wpm_status status_ = WPM_OK;
};

void* device_pointer(const wpm_buffer* buffer) {
  void* p = nullptr;
  EXPECT_EQ(wpm_buffer_device_pointer(buffer, &p), WPM_OK) << wpm_last_error();
  return p;
}

// An emu context, or null when this build has no emulator (the test is then skipped).
wpm_context* emu_context() {
  wpm_backend_info info{sizeof(wpm_backend_info)};
  if (wpm_backend_query(WPM_BACKEND_EMU, &info) != WPM_OK || !info.available) return nullptr;
  wpm_context_options options{sizeof(wpm_context_options), WPM_BACKEND_EMU, 2, 0, nullptr};
  wpm_context* ctx = nullptr;
  if (wpm_context_create(&options, &ctx) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  return ctx;
}

// ------------------------------------------------------------------ cpu: host memory

TEST(Wrap, GeluWritesIntoTheCallersArrayWithoutACopy) {
  Context ctx;
  const size_t n = 1003;  // not a multiple of any vector width
  std::vector<float> x = random_values(n, 11, -4.0f, 4.0f);
  std::vector<float> out(n, std::nanf(""));
  Wrapped wx(ctx, WPM_F32, x.data(), n);
  Wrapped wout(ctx, WPM_F32, out.data(), n);
  EXPECT_EQ(device_pointer(wx), static_cast<void*>(x.data()));
  EXPECT_EQ(device_pointer(wout), static_cast<void*>(out.data()));

  WPM_ASSERT_OK(wpm_gelu_fwd(ctx, wx, wout, int64_t(n), WPM_GELU_TANH));
  WPM_ASSERT_OK(wpm_synchronize(ctx));
  // The caller's own vector holds the result: nothing was copied out of the library.
  EXPECT_LT(rel_error(out, ref_gelu_tanh(x)), 1e-5);

  // And the other way: what the caller writes into its array, the buffer reads.
  x[17] = 123.5f;
  float seen = 0;
  WPM_ASSERT_OK(wpm_buffer_read(wx, 17, &seen, 1));
  EXPECT_EQ(seen, 123.5f);
}

TEST(Wrap, ViewsOfAWrappedBufferFeedTheBradleyTerryLoss) {
  Context ctx;
  const size_t pairs = 37;
  // One caller arena: chosen rewards, then rejected rewards, then the loss.
  std::vector<float> arena = random_values(2 * pairs + 1, 5, -3.0f, 3.0f);
  arena[2 * pairs] = std::nanf("");
  Wrapped whole(ctx, WPM_F32, arena.data(), arena.size());
  wpm_buffer *chosen = nullptr, *rejected = nullptr, *loss = nullptr;
  WPM_ASSERT_OK(wpm_buffer_view(whole, 0, pairs, &chosen));
  WPM_ASSERT_OK(wpm_buffer_view(whole, pairs, pairs, &rejected));
  WPM_ASSERT_OK(wpm_buffer_view(whole, 2 * pairs, 1, &loss));
  EXPECT_EQ(device_pointer(rejected), static_cast<void*>(arena.data() + pairs));

  wpm_bt_loss_params p{sizeof(wpm_bt_loss_params)};
  p.pairs = int64_t(pairs);
  p.margin = 0.25f;
  p.chosen = chosen;
  p.rejected = rejected;
  p.loss = loss;
  WPM_ASSERT_OK(wpm_bt_loss_fwd(ctx, &p));
  WPM_ASSERT_OK(wpm_synchronize(ctx));

  double sum = 0;  // mean of -log sigmoid(chosen - rejected - margin), in float64
  for (size_t i = 0; i < pairs; ++i) {
    const double d = double(arena[i]) - double(arena[pairs + i]) - 0.25;
    sum += d > 0 ? std::log1p(std::exp(-d)) : -d + std::log1p(std::exp(d));
  }
  EXPECT_LT(rel_error({arena[2 * pairs]}, {sum / pairs}), 1e-5);
  WPM_ASSERT_OK(wpm_buffer_free(chosen));
  WPM_ASSERT_OK(wpm_buffer_free(rejected));
  WPM_ASSERT_OK(wpm_buffer_free(loss));
}

TEST(Wrap, FreeingTheWrapperAndItsViewsLeavesTheMemoryIntact) {
  Context ctx;
  // A pointer into the middle of a vector: had the library called free() on it, the
  // allocator would abort; and the contents must survive every handle.
  std::vector<float> values = random_values(64, 9);
  const std::vector<float> before = values;
  Wrapped parent(ctx, WPM_F32, values.data() + 8, 32);
  wpm_buffer* view = nullptr;
  WPM_ASSERT_OK(wpm_buffer_view(parent, 4, 8, &view));
  WPM_ASSERT_OK(wpm_buffer_free(parent.release()));
  // The view still reaches the memory after its parent handle is gone, as for owned buffers.
  std::vector<float> got(8);
  WPM_ASSERT_OK(wpm_buffer_read(view, 0, got.data(), 8));
  EXPECT_EQ(got, std::vector<float>(before.begin() + 12, before.begin() + 20));
  WPM_ASSERT_OK(wpm_buffer_free(view));
  EXPECT_EQ(values, before);
  values.assign(64, 1.0f);  // still ours to write
}

TEST(Wrap, AnEmptyRegionMayBeNull) {
  Context ctx;
  Wrapped empty(ctx, WPM_F32, nullptr, 0);
  size_t count = 99;
  WPM_ASSERT_OK(wpm_buffer_info(empty, nullptr, &count));
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(device_pointer(empty), nullptr);
}

TEST(Wrap, EveryDtypeWrapsAndReadsBack) {
  Context ctx;
  std::vector<uint16_t> halves = {0x3c00, 0xc000, 0x7bff};  // f16 1, -2, 65504
  Wrapped wh(ctx, WPM_F16, halves.data(), halves.size());
  std::vector<uint16_t> back(3);
  WPM_ASSERT_OK(wpm_buffer_read(wh, 0, back.data(), 3));
  EXPECT_EQ(back, halves);
  std::vector<int32_t> ids = {7, -1, 2147483647};
  Wrapped wi(ctx, WPM_I32, ids.data(), ids.size());
  WPM_ASSERT_OK(wpm_buffer_fill(wi, 5));
  EXPECT_EQ(ids, std::vector<int32_t>(3, 5));  // filled in place
}

TEST(Wrap, ADestroyedContextLeavesWrappedBuffersUsableAndTheMemoryAlone) {
  wpm_context_options options{sizeof(wpm_context_options), WPM_BACKEND_CPU, 1, 0, nullptr};
  wpm_context* ctx = nullptr;
  WPM_ASSERT_OK(wpm_context_create(&options, &ctx));
  std::vector<float> values = random_values(16, 4);
  wpm_buffer* wrapped = nullptr;
  WPM_ASSERT_OK(wpm_buffer_wrap(ctx, WPM_F32, values.data(), values.size(), &wrapped));
  WPM_ASSERT_OK(wpm_context_destroy(ctx));

  // As for allocated buffers (worldpm.h, wpm_context_destroy): read, write and free still work ...
  float one = 1.0f, got = 0.0f;
  WPM_ASSERT_OK(wpm_buffer_write(wrapped, 3, &one, 1));
  EXPECT_EQ(values[3], 1.0f);
  WPM_ASSERT_OK(wpm_buffer_read(wrapped, 5, &got, 1));
  EXPECT_EQ(got, values[5]);
  // ... ops need a live context, and another context's op refuses the buffer ...
  Context other;
  expect_error(wpm_gelu_fwd(other, wrapped, wrapped, 16, WPM_GELU_TANH), WPM_ERR_WRONG_CONTEXT, "'x'");
  // ... and wrapping on the dead context is refused by name.
  wpm_buffer* again = nullptr;
  expect_error(wpm_buffer_wrap(ctx, WPM_F32, values.data(), 1, &again), WPM_ERR_INVALID_ARGUMENT, "'context'");
  const std::vector<float> before = values;
  WPM_ASSERT_OK(wpm_buffer_free(wrapped));
  EXPECT_EQ(values, before);
}

TEST(Wrap, MisuseIsRefusedNamingTheArgument) {
  Context ctx;
  alignas(16) unsigned char bytes[64] = {};
  wpm_buffer* out = nullptr;
  expect_error(wpm_buffer_wrap(ctx, WPM_F32, nullptr, 4, &out), WPM_ERR_INVALID_ARGUMENT, {"'pointer'", "NULL"});
  EXPECT_EQ(out, nullptr);
  expect_error(wpm_buffer_wrap(ctx, WPM_F32, bytes + 2, 4, &out), WPM_ERR_INVALID_ARGUMENT,
               {"'pointer'", "aligned", "f32"});
  expect_error(wpm_buffer_wrap(ctx, WPM_BF16, bytes + 1, 4, &out), WPM_ERR_INVALID_ARGUMENT, {"'pointer'", "aligned"});
  expect_error(wpm_buffer_wrap(ctx, WPM_F32, bytes, (size_t(1) << 40) + 1, &out), WPM_ERR_INVALID_ARGUMENT,
               {"'count'", "2^40"});
  // count * 4 bytes from near the top of the address space wraps around.
  void* top = reinterpret_cast<void*>(UINTPTR_MAX - 15);
  expect_error(wpm_buffer_wrap(ctx, WPM_F32, top, 8, &out), WPM_ERR_INVALID_ARGUMENT, {"'count'", "address space"});
  expect_error(wpm_buffer_wrap(ctx, static_cast<wpm_dtype>(9), bytes, 4, &out), WPM_ERR_INVALID_ARGUMENT, "'dtype'");
  expect_error(wpm_buffer_wrap(ctx, WPM_F32, bytes, 4, nullptr), WPM_ERR_INVALID_ARGUMENT, "'buffer'");
  expect_error(wpm_buffer_wrap(nullptr, WPM_F32, bytes, 4, &out), WPM_ERR_INVALID_ARGUMENT, "'context'");
  EXPECT_EQ(out, nullptr);

  void* p = nullptr;
  expect_error(wpm_buffer_device_pointer(nullptr, &p), WPM_ERR_INVALID_ARGUMENT, "'buffer'");
  Wrapped fine(ctx, WPM_F32, bytes, 4);
  expect_error(wpm_buffer_device_pointer(fine, nullptr), WPM_ERR_INVALID_ARGUMENT, "'pointer'");
}

TEST(Wrap, AnOwnedBuffersDevicePointerIsItsFirstElement) {
  Context ctx;
  Buffer owned(ctx, WPM_F32, random_values(10, 2));
  wpm_buffer* view = nullptr;
  WPM_ASSERT_OK(wpm_buffer_view(owned, 3, 4, &view));
  auto* base = static_cast<float*>(device_pointer(owned));
  EXPECT_EQ(device_pointer(view), static_cast<void*>(base + 3));
  WPM_ASSERT_OK(wpm_buffer_free(view));
}

// ------------------------------------------------------------------ context options: the stream field

TEST(Wrap, AStreamIsRefusedOffCuda) {
  int not_a_stream = 0;
  wpm_context_options options{sizeof(wpm_context_options), WPM_BACKEND_CPU, 1, 0, &not_a_stream};
  wpm_context* ctx = nullptr;
  expect_error(wpm_context_create(&options, &ctx), WPM_ERR_UNSUPPORTED, {"'options.stream'", "cpu"});
  EXPECT_EQ(ctx, nullptr);
}

TEST(Wrap, OptionsOfAbi01WithoutTheStreamFieldStillWork) {
  // A caller compiled against 0.1 declares the struct without `stream`; the bytes past it
  // (here garbage) must not be read.
  struct {
    wpm_context_options options;
  } old{};
  std::memset(&old, 0xAB, sizeof old);
  old.options.struct_size = offsetof(wpm_context_options, stream);
  old.options.backend = WPM_BACKEND_CPU;
  old.options.num_threads = 1;
  old.options.device = 0;
  wpm_context* ctx = nullptr;
  WPM_ASSERT_OK(wpm_context_create(&old.options, &ctx));
  WPM_ASSERT_OK(wpm_context_destroy(ctx));
  old.options.struct_size = offsetof(wpm_context_options, stream) - 1;
  expect_error(wpm_context_create(&old.options, &ctx), WPM_ERR_INVALID_ARGUMENT, "'options'");
}

// ------------------------------------------------------------------ emu: emulated device memory

TEST(WrapEmu, ADevicePointerFromAnotherBufferIsWrappedAndWrittenByAnOp) {
  wpm_context* ctx = emu_context();
  if (ctx == nullptr) GTEST_SKIP() << "the emu backend is not built";
  const size_t n = 300, offset = 20;
  std::vector<float> x = random_values(n, 21, -4.0f, 4.0f);
  Buffer input(ctx, WPM_F32, x);
  // The "framework's" tensor: an owned buffer whose device address is handed around.
  Buffer framework(ctx, WPM_F32, std::vector<float>(n + 2 * offset, -7.0f));
  auto* base = static_cast<float*>(device_pointer(framework));
  {
    Wrapped out(ctx, WPM_F32, base + offset, n);
    EXPECT_EQ(device_pointer(out), static_cast<void*>(base + offset));
    WPM_ASSERT_OK(wpm_gelu_fwd(ctx, input, out, int64_t(n), WPM_GELU_TANH));
    WPM_ASSERT_OK(wpm_synchronize(ctx));
  }
  // Read back through the owner: the op wrote its memory, only the wrapped window, and
  // freeing the wrapper left the owner's memory alone.
  std::vector<float> all = framework.download();
  EXPECT_LT(rel_error(std::vector<float>(all.begin() + offset, all.begin() + offset + n), ref_gelu_tanh(x)), 1e-5);
  for (size_t i = 0; i < offset; ++i) {
    EXPECT_EQ(all[i], -7.0f) << i;
    EXPECT_EQ(all[offset + n + i], -7.0f) << offset + n + i;
  }
  wpm_context_destroy(ctx);
}

TEST(WrapEmu, HostMemoryAndRangesPastAnAllocationAreRefused) {
  wpm_context* ctx = emu_context();
  if (ctx == nullptr) GTEST_SKIP() << "the emu backend is not built";
  std::vector<float> host(16, 0.0f);
  wpm_buffer* out = nullptr;
  expect_error(wpm_buffer_wrap(ctx, WPM_F32, host.data(), host.size(), &out), WPM_ERR_INVALID_ARGUMENT,
               {"'pointer'", "device memory"});
  {
    Buffer owned(ctx, WPM_F32, 16);
    auto* base = static_cast<float*>(device_pointer(owned));
    // Too small a region: 17 elements claimed over a 16-element allocation, or 4 from element 13.
    expect_error(wpm_buffer_wrap(ctx, WPM_F32, base, 17, &out), WPM_ERR_INVALID_ARGUMENT, "'pointer'");
    expect_error(wpm_buffer_wrap(ctx, WPM_F32, base + 13, 4, &out), WPM_ERR_INVALID_ARGUMENT, "'pointer'");
    Wrapped exact(ctx, WPM_F32, base + 12, 4);  // the last four fit exactly
  }
  EXPECT_EQ(out, nullptr);
  // A stream means nothing to the emulator.
  int not_a_stream = 0;
  wpm_context_options options{sizeof(wpm_context_options), WPM_BACKEND_EMU, 1, 0, &not_a_stream};
  wpm_context* streamed = nullptr;
  expect_error(wpm_context_create(&options, &streamed), WPM_ERR_UNSUPPORTED, {"'options.stream'", "emu"});
  wpm_context_destroy(ctx);
}

}  // namespace
