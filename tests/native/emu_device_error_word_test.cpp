// The device error word on emu (which runs the cuda backend's host code): an id, index or length out of
// range, or packed offsets that break a rule, are checked on the stream, not read back; the call returns OK
// without a copy to the host or a wait, and the next read-back (a buffer read, a synchronize) fails naming the
// op, the argument, its index and its value. The first failed check wins until it is reported; a report
// clears the word.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using wpm_test::Buffer;
using wpm_test::expect_error;

class EmuErrorWord : public ::testing::Test {
 protected:
  wpm_test::Context ctx{1, WPM_BACKEND_EMU};

  wpm_device_counters counters() {
    wpm_device_counters c{};
    c.struct_size = sizeof c;
    EXPECT_EQ(wpm_context_device_counters(ctx, &c), WPM_OK) << wpm_last_error();
    return c;
  }

  // Runs `op` (which must return OK), checks it neither waited nor copied to the host, then expects the next
  // buffer read to fail with every word of `message` and `argument` as the failing argument.
  void expect_reported_at_next_read(const std::function<wpm_status()>& op, std::initializer_list<const char*> message,
                                    const char* argument) {
    const wpm_device_counters before = counters();
    WPM_ASSERT_OK(op());
    const wpm_device_counters after = counters();
    EXPECT_EQ(after.host_waits, before.host_waits) << "the op waited for the device";
    EXPECT_EQ(after.d2h_copies, before.d2h_copies) << "the op read something back";
    std::vector<float> host(4);
    expect_error(wpm_buffer_read(probe, 0, host.data(), host.size()), WPM_ERR_INVALID_ARGUMENT, message);
    EXPECT_STREQ(wpm_last_error_argument(), argument);
    WPM_ASSERT_OK(wpm_buffer_read(probe, 0, host.data(), host.size()));  // reported once, then cleared
  }

  Buffer probe{ctx, WPM_F32, 4};
};

TEST_F(EmuErrorWord, ABadTokenIdIsReportedByTheNextReadNamingTheOpAndTheValue) {
  Buffer ids(ctx, WPM_I32, 4), table(ctx, WPM_F32, 10 * 8), out(ctx, WPM_F32, 4 * 8);
  ids.upload_i32({0, 9, 70, 3});
  expect_reported_at_next_read([&] { return wpm_embedding_fwd(ctx, ids, table, out, 4, 10, 8); },
                               {"wpm_embedding_fwd", "'ids[2]'", "is 70", "0..9"}, "ids");
  expect_reported_at_next_read([&] { return wpm_embedding_bwd(ctx, ids, out, table, 4, 10, 8); },
                               {"wpm_embedding_bwd", "'ids[2]'", "is 70"}, "ids");
  ids.upload_i32({-5, 0, 0, 0});
  expect_reported_at_next_read([&] { return wpm_embedding_fwd(ctx, ids, table, out, 4, 10, 8); },
                               {"wpm_embedding_fwd", "'ids[0]'", "is -5"}, "ids");
}

TEST_F(EmuErrorWord, ABadPoolingLengthIsReportedByTheNextRead) {
  const int64_t b = 3, t = 4, c = 5;
  Buffer lengths(ctx, WPM_I32, size_t(b)), hidden(ctx, WPM_F32, size_t(b * t * c)), out(ctx, WPM_F32, size_t(b * c));
  lengths.upload_i32({1, 4, 5});
  for (bool backward : {false, true}) {
    wpm_last_token_pool_params p{};
    p.struct_size = sizeof p;
    p.b = b, p.t = t, p.c = c, p.padding = WPM_PAD_RIGHT, p.lengths = lengths;
    p.hidden = hidden, p.out = out, p.dout = out, p.dhidden = hidden;
    expect_reported_at_next_read(
        [&] { return backward ? wpm_last_token_pool_bwd(ctx, &p) : wpm_last_token_pool_fwd(ctx, &p); },
        {backward ? "wpm_last_token_pool_bwd" : "wpm_last_token_pool_fwd", "'lengths[2]'", "is 5", "1..4"},
        "lengths");
  }
}

TEST_F(EmuErrorWord, ABadAttentionLengthIsReportedByTheNextRead) {
  const int64_t b = 2, t = 4, h = 2, kvh = 1, d = 8;
  Buffer q(ctx, WPM_F32, wpm_test::random_values(size_t(b * t * h * d), 1)),
      k(ctx, WPM_F32, wpm_test::random_values(size_t(b * t * kvh * d), 2)),
      v(ctx, WPM_F32, wpm_test::random_values(size_t(b * t * kvh * d), 3));
  Buffer out(ctx, WPM_F32, size_t(b * t * h * d)), lse(ctx, WPM_F32, size_t(b * h * t));
  Buffer dq(ctx, WPM_F32, size_t(b * t * h * d)), dk(ctx, WPM_F32, size_t(b * t * kvh * d)),
      dv(ctx, WPM_F32, size_t(b * t * kvh * d));
  Buffer lengths(ctx, WPM_I32, size_t(b));
  const wpm_attention_params p{sizeof p, b, t, h, kvh, d, 0.0f, WPM_PAD_RIGHT, lengths, q, k, v, out, lse,
                               out, dq, dk, dv};
  lengths.upload_i32({4, 3});
  WPM_ASSERT_OK(wpm_attention_fwd(ctx, &p));  // lse for the backward below
  for (int32_t bad : {0, 5, -7}) {
    lengths.upload_i32({bad, 3});
    const std::string value = "lengths[0] = " + std::to_string(bad);
    expect_reported_at_next_read([&] { return wpm_attention_fwd(ctx, &p); },
                                 {"wpm_attention_fwd", "'lengths'", value.c_str(), "1..4"}, "lengths");
    expect_reported_at_next_read([&] { return wpm_attention_bwd(ctx, &p); },
                                 {"wpm_attention_bwd", "'lengths'", value.c_str()}, "lengths");
  }
}

// Packed attention's offsets (cu_seqlens), in every emulator schedule: the op neither waits nor reads them back,
// and the next read-back names the index, the value and the rule as the cpu backend does at once.
TEST_F(EmuErrorWord, BadPackedOffsetsAreReportedByTheNextReadInEverySchedule) {
  const int64_t seqs = 3, t = 10, h = 2, d = 8;
  const size_t n = size_t(t * h * d);
  Buffer q(ctx, WPM_F32, wpm_test::random_values(n, 1)), k(ctx, WPM_F32, wpm_test::random_values(n, 2)),
      v(ctx, WPM_F32, wpm_test::random_values(n, 3));
  Buffer out(ctx, WPM_F32, n), lse(ctx, WPM_F32, size_t(h * t)), dq(ctx, WPM_F32, n), dk(ctx, WPM_F32, n),
      dv(ctx, WPM_F32, n), cu(ctx, WPM_I32, size_t(seqs + 1));
  wpm_attention_params p{};
  p.struct_size = sizeof p;
  p.b = seqs, p.t = t, p.h = h, p.kvh = h, p.d = d;
  p.q = q, p.k = k, p.v = v, p.out = out, p.lse = lse, p.dout = out, p.dq = dq, p.dk = dk, p.dv = dv;
  p.cu_seqlens = cu, p.max_seqlen = 6;
  cu.upload_i32({0, 4, 4, 10});
  WPM_ASSERT_OK(wpm_attention_fwd(ctx, &p));  // lse for the backward below
  for (const emu_test::Schedule& schedule : emu_test::schedules()) {
    SCOPED_TRACE(schedule.name);
    emu_test::ConfigScope scope(schedule);
    for (bool backward : {false, true}) {
      const char* op = backward ? "wpm_attention_bwd" : "wpm_attention_fwd";
      auto call = [&] { return backward ? wpm_attention_bwd(ctx, &p) : wpm_attention_fwd(ctx, &p); };
      cu.upload_i32({0, 5, 4, 10});
      expect_reported_at_next_read(call, {op, "'cu_seqlens'", "cu_seqlens[2] = 4 below cu_seqlens[1] = 5"},
                                   "cu_seqlens");
      cu.upload_i32({0, 1, 2, 10});
      expect_reported_at_next_read(call, {op, "'max_seqlen' is 6, but sequence 2 has 8 tokens"}, "max_seqlen");
    }
    cu.upload_i32({0, 4, 4, 10});
  }
}

TEST_F(EmuErrorWord, TheFirstFailedCheckWinsAndSynchronizeReportsItToo) {
  Buffer ids(ctx, WPM_I32, 2), table(ctx, WPM_F32, 3 * 2), out(ctx, WPM_F32, 2 * 2);
  Buffer index(ctx, WPM_I32, 2), all(ctx, WPM_F32, 3 * 2);
  ids.upload_i32({1, 3});
  index.upload_i32({-1, 0});
  WPM_ASSERT_OK(wpm_embedding_fwd(ctx, ids, table, out, 2, 3, 2));
  wpm_rows_params p{sizeof p, 2, 3, 2, index, all, out};
  WPM_ASSERT_OK(wpm_rows_gather(ctx, &p));
  expect_error(wpm_synchronize(ctx), WPM_ERR_INVALID_ARGUMENT, {"wpm_embedding_fwd", "'ids[1]'", "is 3"});
  WPM_ASSERT_OK(wpm_synchronize(ctx));
  // The rows op's bad index was seen after the word was set, so it is not reported; run it again alone.
  WPM_ASSERT_OK(wpm_rows_gather(ctx, &p));
  expect_error(wpm_synchronize(ctx), WPM_ERR_INVALID_ARGUMENT, {"wpm_rows_gather", "'index[0]'", "is -1", "(r 3)"});
}

TEST_F(EmuErrorWord, GoodValuesAreNeverReported) {
  Buffer ids(ctx, WPM_I32, 3), table(ctx, WPM_F32, 3 * 2), out(ctx, WPM_F32, 3 * 2);
  ids.upload_i32({2, 0, 1});
  WPM_ASSERT_OK(wpm_embedding_fwd(ctx, ids, table, out, 3, 3, 2));
  WPM_ASSERT_OK(wpm_synchronize(ctx));
  std::vector<float> host(4);
  WPM_ASSERT_OK(wpm_buffer_read(probe, 0, host.data(), host.size()));
}

}  // namespace
