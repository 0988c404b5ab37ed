// The cuda communicator's NCCL calls (native/src/comm/nccl_calls.h) against the fake NCCL with three ranks as
// threads: every collective and dtype, checked on every rank against a float64 reference built from the
// ranks' known inputs. Inputs are small integers chosen so every result is exact in every dtype.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "comm/nccl_calls.h"
#include "fake_nccl.h"
#include "half.h"

namespace {

using wpm::comm::NcclCalls;
using wpm::comm::NcclComm;
using wpm::comm::NcclUniqueId;

constexpr int kRanks = 3;

size_t dtype_bytes(wpm_dtype dtype) { return dtype == WPM_F16 || dtype == WPM_BF16 ? 2 : 4; }

// Host memory in a dtype's storage; values cross as double.
class Array {
 public:
  Array(wpm_dtype dtype, size_t n) : dtype_(dtype), bytes_(n * dtype_bytes(dtype), 0xFF) {}
  void* data() { return bytes_.data(); }
  void set(size_t i, double v) {
    unsigned char* p = bytes_.data() + i * dtype_bytes(dtype_);
    if (dtype_ == WPM_I32) {
      const int32_t x = int32_t(v);
      std::memcpy(p, &x, 4);
    } else if (dtype_ == WPM_F32) {
      const float x = float(v);
      std::memcpy(p, &x, 4);
    } else {
      const uint16_t h = dtype_ == WPM_F16 ? wpm::float_to_f16(float(v)) : wpm::float_to_bf16(float(v));
      std::memcpy(p, &h, 2);
    }
  }
  double get(size_t i) const {
    const unsigned char* p = bytes_.data() + i * dtype_bytes(dtype_);
    if (dtype_ == WPM_I32) {
      int32_t x;
      std::memcpy(&x, p, 4);
      return x;
    }
    if (dtype_ == WPM_F32) {
      float x;
      std::memcpy(&x, p, 4);
      return x;
    }
    uint16_t h;
    std::memcpy(&h, p, 2);
    return dtype_ == WPM_F16 ? wpm::f16_to_float(h) : wpm::bf16_to_float(h);
  }

 private:
  wpm_dtype dtype_;
  std::vector<unsigned char> bytes_;
};

// Runs body(rank, calls) on kRanks threads sharing one fake communicator.
void on_every_rank(const std::function<void(int, const NcclCalls&)>& body) {
  const wpm::comm::NcclLibrary& nccl = fake_nccl::library();
  NcclUniqueId id{};
  ASSERT_EQ(nccl.get_unique_id(&id), 0);
  std::vector<std::thread> ranks;
  for (int r = 0; r < kRanks; ++r)
    ranks.emplace_back([&, r] {
      NcclComm comm = nullptr;
      ASSERT_EQ(nccl.comm_init_rank(&comm, kRanks, id, r), 0);
      body(r, NcclCalls(nccl, comm, nullptr));
      nccl.comm_destroy(comm);
    });
  for (std::thread& t : ranks) t.join();
}

constexpr wpm_dtype kDtypes[] = {WPM_F32, WPM_F16, WPM_BF16, WPM_I32};
const char* name(wpm_dtype d) { return d == WPM_F32 ? "f32" : d == WPM_F16 ? "f16" : d == WPM_BF16 ? "bf16" : "i32"; }

// Rank r's element i: integers in -6..12 whose sum over the ranks is a multiple of 3 (so the mean is exact).
double input(int r, size_t i) { return double(r - 1) + 3.0 * double(i % 5); }

TEST(NcclCalls, AllReduceSumsOrAveragesEveryRanksBufferInPlace) {
  const size_t n = 11;
  for (wpm_dtype dtype : kDtypes)
    for (wpm_reduce_op op : {WPM_REDUCE_SUM, WPM_REDUCE_MEAN}) {
      SCOPED_TRACE(std::string(name(dtype)) + (op == WPM_REDUCE_SUM ? " sum" : " mean"));
      on_every_rank([&](int r, const NcclCalls& calls) {
        Array buffer(dtype, n);
        for (size_t i = 0; i < n; ++i) buffer.set(i, input(r, i));
        ASSERT_EQ(calls.all_reduce(buffer.data(), n, dtype, op), 0);
        for (size_t i = 0; i < n; ++i) {
          double sum = 0;
          for (int q = 0; q < kRanks; ++q) sum += input(q, i);
          EXPECT_EQ(buffer.get(i), op == WPM_REDUCE_SUM ? sum : sum / kRanks) << "rank " << r << " element " << i;
        }
      });
    }
}

TEST(NcclCalls, BroadcastCopiesTheRootsBufferToEveryRank) {
  const size_t n = 7;
  for (wpm_dtype dtype : kDtypes)
    for (int root = 0; root < kRanks; ++root) {
      SCOPED_TRACE(std::string(name(dtype)) + " root " + std::to_string(root));
      on_every_rank([&](int r, const NcclCalls& calls) {
        Array buffer(dtype, n);
        for (size_t i = 0; i < n; ++i) buffer.set(i, input(r, i));
        ASSERT_EQ(calls.broadcast(buffer.data(), n, dtype, root), 0);
        for (size_t i = 0; i < n; ++i) EXPECT_EQ(buffer.get(i), input(root, i)) << "rank " << r << " element " << i;
      });
    }
}

TEST(NcclCalls, AllGatherPlacesEachRanksSendInRankOrder) {
  const size_t n = 5;
  for (wpm_dtype dtype : kDtypes) {
    SCOPED_TRACE(name(dtype));
    on_every_rank([&](int r, const NcclCalls& calls) {
      Array send(dtype, n), recv(dtype, n * kRanks);
      for (size_t i = 0; i < n; ++i) send.set(i, input(r, i));
      ASSERT_EQ(calls.all_gather(send.data(), n, recv.data(), dtype), 0);
      for (int q = 0; q < kRanks; ++q)
        for (size_t i = 0; i < n; ++i)
          EXPECT_EQ(recv.get(size_t(q) * n + i), input(q, i)) << "rank " << r << " from " << q << " element " << i;
    });
  }
}

TEST(NcclCalls, ReduceScatterGivesEachRankItsShareOfTheReduction) {
  const size_t share = 4;
  for (wpm_dtype dtype : kDtypes)
    for (wpm_reduce_op op : {WPM_REDUCE_SUM, WPM_REDUCE_MEAN}) {
      SCOPED_TRACE(std::string(name(dtype)) + (op == WPM_REDUCE_SUM ? " sum" : " mean"));
      on_every_rank([&](int r, const NcclCalls& calls) {
        Array send(dtype, share * kRanks), recv(dtype, share);
        for (size_t i = 0; i < share * kRanks; ++i) send.set(i, input(r, i));
        ASSERT_EQ(calls.reduce_scatter(send.data(), recv.data(), share, dtype, op), 0);
        for (size_t i = 0; i < share; ++i) {
          const size_t at = size_t(r) * share + i;
          double sum = 0;
          for (int q = 0; q < kRanks; ++q) sum += input(q, at);
          EXPECT_EQ(recv.get(i), op == WPM_REDUCE_SUM ? sum : sum / kRanks) << "rank " << r << " element " << i;
        }
      });
    }
}

// The fake must be able to fail: ranks that disagree on the count are reported to every rank.
TEST(FakeNccl, RanksDisagreeingOnTheCountAllGetInvalidUsage) {
  on_every_rank([&](int r, const NcclCalls& calls) {
    Array buffer(WPM_F32, 8);
    EXPECT_EQ(calls.all_reduce(buffer.data(), r == 1 ? 7 : 8, WPM_F32, WPM_REDUCE_SUM), fake_nccl::kInvalidUsage);
  });
}

}  // namespace
