// wpm_context_device_counters on the emu backend, which runs the cuda backend's host code: each kind of call
// moves the counters by what it does by definition (an upload is one host-to-device copy, waiting for the stream
// only above the staged size; a read waits; an elementwise op is one kernel; a GEMM is one GEMM call and no
// kernel of ours), counted here call by call rather than read from the library.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "test_util.h"

namespace {

using wpm_test::expect_error;

class EmuContext : public wpm_test::Context {
 public:
  EmuContext() : Context(1, WPM_BACKEND_EMU) {}
};

wpm_device_counters read(wpm_context* ctx) {
  wpm_device_counters c{};
  c.struct_size = sizeof c;
  EXPECT_EQ(wpm_context_device_counters(ctx, &c), WPM_OK) << wpm_last_error();
  return c;
}

// The change of each counter between two readings, in the order of the struct.
struct Moved {
  uint64_t host_waits, d2h, h2d, launches, gemms;
  bool operator==(const Moved& o) const {
    return host_waits == o.host_waits && d2h == o.d2h && h2d == o.h2d && launches == o.launches && gemms == o.gemms;
  }
};
std::ostream& operator<<(std::ostream& out, const Moved& m) {
  return out << "{waits " << m.host_waits << ", d2h " << m.d2h << ", h2d " << m.h2d << ", launches " << m.launches
             << ", gemms " << m.gemms << "}";
}

// Runs `call` and returns how it moved the counters.
template <class Call>
Moved moved_by(wpm_context* ctx, Call&& call) {
  const wpm_device_counters before = read(ctx);
  call();
  const wpm_device_counters after = read(ctx);
  return {after.host_waits - before.host_waits, after.d2h_copies - before.d2h_copies,
          after.h2d_copies - before.h2d_copies, after.launches - before.launches, after.gemms - before.gemms};
}

TEST(EmuDeviceCounters, ANewContextHasDoneNothing) {
  EmuContext ctx;
  const wpm_device_counters c = read(ctx);
  EXPECT_EQ(c.host_waits + c.d2h_copies + c.h2d_copies + c.launches + c.gemms, 0u);
}

TEST(EmuDeviceCounters, CopiesAndWaitsAreCountedCallByCall) {
  EmuContext ctx;
  wpm_buffer* x = nullptr;
  EXPECT_EQ(moved_by(ctx, [&] { ASSERT_EQ(wpm_buffer_alloc(ctx, WPM_F32, 64, &x), WPM_OK); }), (Moved{0, 0, 0, 0, 0}));
  std::vector<float> host(64, 0.5f);
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_buffer_write(x, 0, host.data(), 64)); }), (Moved{0, 0, 1, 0, 0}));
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_buffer_read(x, 0, host.data(), 64)); }), (Moved{1, 1, 0, 0, 0}));
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_buffer_read(x, 0, host.data(), 0)); }), (Moved{0, 0, 0, 0, 0}));
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_synchronize(ctx)); }), (Moved{1, 0, 0, 0, 0}));
  WPM_ASSERT_OK(wpm_buffer_free(x));

  // 1 MiB is past the 256 KiB an upload may stage: that one waits for its copy.
  wpm_buffer* big = nullptr;
  std::vector<float> weights(size_t(1) << 18, 0.25f);
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, weights.size(), &big));
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_buffer_write(big, 0, weights.data(), weights.size())); }),
            (Moved{1, 0, 1, 0, 0}));
  WPM_ASSERT_OK(wpm_buffer_free(big));
}

// An upload that does not wait is queued behind the work before it and carries its own copy of the bytes: the
// caller may overwrite its buffer at once, and a kernel queued before the upload still reads the old values.
// Telling under WORLDPM_EMU_QUEUE=deferred (the emu.deferred_queue test runs EmuQueue.*); true in either mode.
TEST(EmuQueue, AStagedUploadKeepsStreamOrderAndHoldsItsOwnCopy) {
  EmuContext ctx;
  wpm_buffer *x = nullptr, *y = nullptr;
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 4, &x));
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 4, &y));
  std::vector<float> host = {1, 2, 3, 4};
  WPM_ASSERT_OK(wpm_buffer_write(x, 0, host.data(), 4));
  WPM_ASSERT_OK(wpm_relu_fwd(ctx, x, y, 4));  // queued: reads 1, 2, 3, 4
  std::vector<float> second = {-1, -2, -3, -4};
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_buffer_write(x, 0, second.data(), 4)); }), (Moved{0, 0, 1, 0, 0}));
  std::fill(second.begin(), second.end(), 100.0f);  // the upload holds its own copy
  std::vector<float> got_x(4), got_y(4);
  WPM_ASSERT_OK(wpm_buffer_read(y, 0, got_y.data(), 4));
  WPM_ASSERT_OK(wpm_buffer_read(x, 0, got_x.data(), 4));
  EXPECT_EQ(got_y, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(got_x, (std::vector<float>{-1, -2, -3, -4}));
  for (wpm_buffer* buffer : {x, y}) WPM_ASSERT_OK(wpm_buffer_free(buffer));
}

TEST(EmuDeviceCounters, AnElementwiseOpIsOneLaunchAndAGemmNoneOfOurs) {
  EmuContext ctx;
  wpm_buffer *x = nullptr, *y = nullptr, *a = nullptr, *b = nullptr, *c = nullptr;
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 64, &x));
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 64, &y));
  WPM_ASSERT_OK(wpm_buffer_fill(x, 0.25));
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_gelu_fwd(ctx, x, y, 64, WPM_GELU_TANH)); }), (Moved{0, 0, 0, 1, 0}));
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_buffer_fill(y, 1.0)); }), (Moved{0, 0, 0, 1, 0}));
  // A cast within one dtype is a device copy: no kernel of ours, nothing crosses to the host.
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_cast(ctx, x, y, 64)); }), (Moved{0, 0, 0, 0, 0}));

  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 8 * 8, &a));
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 8 * 8, &b));
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 8 * 8, &c));
  wpm_gemm_params g{};
  g.struct_size = sizeof g;
  g.a = a, g.b = b, g.c = c, g.m = 8, g.n = 8, g.k = 8, g.batch = 1, g.alpha = 1.0f, g.beta = 0.0f;
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_gemm(ctx, &g)); }), (Moved{0, 0, 0, 0, 1}));
  for (wpm_buffer* buffer : {x, y, a, b, c}) WPM_ASSERT_OK(wpm_buffer_free(buffer));
}

// The embedding checks its ids on the stream (a check kernel into the context's error word, made and zeroed by
// the first check: one upload), never on the host; the next read copies the word behind its own wait.
TEST(EmuDeviceCounters, TheEmbeddingChecksItsIdsOnTheStream) {
  EmuContext ctx;
  wpm_buffer *ids = nullptr, *table = nullptr, *out = nullptr;
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_I32, 4, &ids));
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 10 * 8, &table));
  WPM_ASSERT_OK(wpm_buffer_alloc(ctx, WPM_F32, 4 * 8, &out));
  WPM_ASSERT_OK(wpm_buffer_fill(ids, 3));
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_embedding_fwd(ctx, ids, table, out, 4, 10, 8)); }),
            (Moved{0, 0, 1, 2, 0}));
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_embedding_fwd(ctx, ids, table, out, 4, 10, 8)); }),
            (Moved{0, 0, 0, 2, 0}));
  std::vector<float> host(4 * 8);
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_buffer_read(out, 0, host.data(), host.size())); }),
            (Moved{1, 2, 0, 0, 0}));
  // Nothing queued since: a read is one copy again.
  EXPECT_EQ(moved_by(ctx, [&] { WPM_ASSERT_OK(wpm_buffer_read(out, 0, host.data(), host.size())); }),
            (Moved{1, 1, 0, 0, 0}));
  for (wpm_buffer* buffer : {ids, table, out}) WPM_ASSERT_OK(wpm_buffer_free(buffer));
}

TEST(EmuDeviceCounters, EachContextCountsItsOwnWork) {
  EmuContext first, second;
  wpm_buffer* x = nullptr;
  WPM_ASSERT_OK(wpm_buffer_alloc(first, WPM_F32, 16, &x));
  EXPECT_EQ(moved_by(second, [&] {
              WPM_ASSERT_OK(wpm_buffer_fill(x, 2.0));
              WPM_ASSERT_OK(wpm_synchronize(first));
            }),
            (Moved{0, 0, 0, 0, 0}));
  WPM_ASSERT_OK(wpm_buffer_free(x));
}

TEST(EmuDeviceCounters, MisuseIsRefusedNamingTheArgument) {
  EmuContext ctx;
  expect_error(wpm_context_device_counters(ctx, nullptr), WPM_ERR_INVALID_ARGUMENT, "'counters'");
  wpm_device_counters small{};
  small.struct_size = sizeof(size_t);
  expect_error(wpm_context_device_counters(ctx, &small), WPM_ERR_INVALID_ARGUMENT, {"'counters'", "struct_size"});
  wpm_device_counters c{};
  c.struct_size = sizeof c;
  wpm_test::Context cpu;
  expect_error(wpm_context_device_counters(cpu, &c), WPM_ERR_UNSUPPORTED, {"'context'", "cpu"});
}

}  // namespace
