// The device check of a packed batch's offsets (value_check.cu's check_offsets) under the emulator, in every
// schedule: the error word names the first index that breaks a rule, the rule and the two numbers its message
// needs (each expectation worked out by hand from the offsets), a set word is left alone, and the safe copy is
// the offsets when they are good and all zeros when they are not. Batches of more than one block's threads put
// failures on different threads, so the minimum over the block decides which one is reported.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "emu_test_util.h"
#include "packed_offsets.h"

namespace {

using emu_test::DeviceArray;

struct Outcome {
  kerror_word word;
  std::vector<int32_t> safe;
  std::vector<uint8_t> bytes;  // the word and the copy, for the schedule comparison
};

// Runs the check of `cu` (b = cu.size() - 1) into a word that starts as `start`.
Outcome run(const std::vector<int32_t>& cu, int32_t t, int32_t max_seqlen, const kerror_word& start = {}) {
  DeviceArray offsets(cu), safe(std::vector<int32_t>(cu.size(), -99));
  DeviceArray word(std::vector<int32_t>(sizeof(kerror_word) / 4, 0));
  std::memcpy(word.data(), &start, sizeof start);
  EXPECT_EQ(check_offsets(nullptr, offsets.as<int32_t>(), int64_t(cu.size()) - 1, t, max_seqlen, 7,
                          word.as<kerror_word>(), safe.as<int32_t>()),
            KSTATUS_OK)
      << klast_error();
  Outcome o{};
  std::memcpy(&o.word, word.data(), sizeof o.word);
  o.safe.assign(safe.as<int32_t>(), safe.as<int32_t>() + cu.size());
  o.bytes = word.bytes();
  const std::vector<uint8_t> copy = safe.bytes();
  o.bytes.insert(o.bytes.end(), copy.begin(), copy.end());
  return o;
}

// The check in every schedule gives the same bits, and `want` (code 0: no failure) with the copy it implies.
void expect_outcome(const std::vector<int32_t>& cu, int32_t t, int32_t max_seqlen, const kerror_word& want,
                    const std::string& label) {
  SCOPED_TRACE(label);
  const Outcome o = run(cu, t, max_seqlen);
  EXPECT_EQ(o.word.code, want.code);
  EXPECT_EQ(o.word.index, want.index);
  EXPECT_EQ(o.word.rule, want.rule);
  EXPECT_EQ(o.word.value, want.value);
  EXPECT_EQ(o.word.other, want.other);
  EXPECT_EQ(o.safe, want.code == 0 ? cu : std::vector<int32_t>(cu.size(), 0));
  emu_test::expect_same_bits_in_every_schedule([&] { return run(cu, t, max_seqlen).bytes; }, label);
}

// The word the check (under code 7) should leave for a failure at `index` of `rule`.
kerror_word failure(int64_t index, koffsets_rule rule, int64_t value, int64_t other) {
  kerror_word w{};
  w.code = 7, w.index = index, w.rule = rule, w.value = value, w.other = other;
  return w;
}

// Offsets 0, 2, 4, ... of n sequences of 2 tokens.
std::vector<int32_t> pairs_of_tokens(int n) {
  std::vector<int32_t> cu(size_t(n) + 1);
  for (int i = 0; i <= n; ++i) cu[size_t(i)] = 2 * i;
  return cu;
}

TEST(EmuOffsetsCheck, GoodOffsetsAreCopiedAndLeaveTheWord) {
  expect_outcome({0, 4, 4, 10}, 10, 6, {}, "empty sequence inside");
  expect_outcome({0, 0, 0}, 0, 1, {}, "only empty sequences, t 0");
  expect_outcome(pairs_of_tokens(700), 1400, 2, {}, "700 sequences");
}

TEST(EmuOffsetsCheck, EachRuleIsReportedWithItsNumbers) {
  expect_outcome({1, 4, 4, 10}, 10, 6, failure(0, koffsets_first_not_zero, 1, 0), "first not 0");
  expect_outcome({0, 5, 4, 10}, 10, 6, failure(2, koffsets_decreasing, 4, 5), "decreasing");
  expect_outcome({0, 4, 11, 10}, 10, 7, failure(2, koffsets_past_t, 11, 10), "past t");
  expect_outcome({0, 1, 2, 10}, 10, 6, failure(3, koffsets_too_long, 8, 6), "too long");
  expect_outcome({0, 4, 4, 9}, 10, 6, failure(3, koffsets_last_not_t, 9, 10), "last not t");
  // At index 2 the length INT32_MAX - (-5) does not fit an i32 (computed wider); index 1's decrease is first.
  expect_outcome({0, -5, 2147483647}, 2147483647, 10, failure(1, koffsets_decreasing, -5, 0), "extremes");
}

// Thread j of the block strides over j, j + 256, ...: failures at 300 (thread 44) and 600 (thread 88), and at
// 200 (thread 200) in the second batch, so the reported one is the block's minimum, not a thread's.
TEST(EmuOffsetsCheck, TheFirstFailingIndexWinsAcrossThreads) {
  std::vector<int32_t> cu = pairs_of_tokens(700);
  cu[300] = 0;  // below cu[299] = 598
  cu[600] = 5000;
  expect_outcome(cu, 1400, 2, failure(300, koffsets_decreasing, 0, 598), "300 before 600");
  cu[200] = 100000;  // past t, also a sequence too long: past t is tested first
  expect_outcome(cu, 1400, 2, failure(200, koffsets_past_t, 100000, 1400), "200 before 300");
}

TEST(EmuOffsetsCheck, ASetWordIsLeftAlone) {
  const kerror_word earlier{3, 5, 70, 0, 0};
  const Outcome o = run({1, 4, 4, 10}, 10, 6, earlier);
  EXPECT_EQ(std::vector<int64_t>({o.word.code, o.word.index, o.word.value, o.word.rule, o.word.other}),
            std::vector<int64_t>({3, 5, 70, 0, 0}));
  EXPECT_EQ(o.safe, std::vector<int32_t>(4, 0)) << "the copy is still made safe";
}

TEST(EmuOffsetsCheck, TheLauncherRefusesWhatItCannotCheck) {
  DeviceArray cu(std::vector<int32_t>{0, 1}), word(std::vector<int32_t>(10, 0)), safe(std::vector<int32_t>{0, 0});
  EXPECT_EQ(check_offsets(nullptr, cu.as<int32_t>(), 0, 1, 1, 7, word.as<kerror_word>(), safe.as<int32_t>()),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(check_offsets(nullptr, cu.as<int32_t>(), 1, 1, 1, 0, word.as<kerror_word>(), safe.as<int32_t>()),
            KSTATUS_INVALID_ARGUMENT);
  EXPECT_EQ(check_offsets(nullptr, cu.as<int32_t>(), 1, 1, 1, 7, word.as<kerror_word>(), nullptr),
            KSTATUS_INVALID_ARGUMENT);
}

}  // namespace
