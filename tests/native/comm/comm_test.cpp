// The collectives (worldpm.h, "collectives") against float64 references built
// from every rank's known inputs. The same binary runs as a world of one
// (ctest: comm.single) and under `mpirun -np 2` (comm.mpirun_np2); rank r's
// inputs are a function of r, so each rank can compute what every other rank
// contributed. Backends: cpu (MPI on the buffers in place) and emu (host
// copies through the backend).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "test_util.h"
#include "worldpm.h"

namespace {

using wpm_test::Buffer;
using wpm_test::expect_error;

struct Backend {
  wpm_backend kind;
  const char* name;
};

class Comm {
 public:
  Comm(wpm_context* context, double timeout = 0) {
    wpm_comm_options options{sizeof(wpm_comm_options), timeout};
    if (wpm_comm_create(context, &options, &comm_) != WPM_OK) ADD_FAILURE() << wpm_last_error();
    if (comm_ != nullptr) wpm_comm_rank(comm_, &rank_, &size_);
  }
  ~Comm() { wpm_comm_destroy(comm_); }
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;
  operator wpm_comm*() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  wpm_comm* comm_ = nullptr;
  int32_t rank_ = -1, size_ = 0;
};

class Context {
 public:
  explicit Context(wpm_backend kind) {
    wpm_context_options options{sizeof(wpm_context_options), kind, 1, 0};
    if (wpm_context_create(&options, &ctx_) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  }
  ~Context() { wpm_context_destroy(ctx_); }
  operator wpm_context*() const { return ctx_; }

 private:
  wpm_context* ctx_ = nullptr;
};

// Rank r's contribution: distinct per rank and element, never zero, exactly representable in bf16
// after rounding by the caller's dtype.
float input(int rank, size_t i, wpm_dtype dtype) {
  return wpm_test::round_to(dtype, std::sin(0.37f * static_cast<float>(i) + 1.3f * static_cast<float>(rank)) + 1.5f);
}

std::vector<float> inputs(int rank, size_t n, wpm_dtype dtype) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = input(rank, i, dtype);
  return v;
}

class CollectiveTest : public testing::TestWithParam<std::tuple<Backend, wpm_dtype>> {
 protected:
  wpm_backend kind() const { return std::get<0>(GetParam()).kind; }
  wpm_dtype dtype() const { return std::get<1>(GetParam()); }
};

TEST_P(CollectiveTest, AllReduceSumAndMeanMatchFloat64) {
  Context context(kind());
  Comm comm(context);
  ASSERT_GT(comm.size(), 0);
  for (wpm_reduce_op op : {WPM_REDUCE_SUM, WPM_REDUCE_MEAN}) {
    const size_t n = 1000;
    Buffer buffer(context, dtype(), inputs(comm.rank(), n, dtype()));
    WPM_ASSERT_OK(wpm_all_reduce(comm, buffer, op));
    std::vector<double> want(n, 0.0);
    for (int r = 0; r < comm.size(); ++r)
      for (size_t i = 0; i < n; ++i) want[i] += input(r, i, dtype());
    if (op == WPM_REDUCE_MEAN)
      for (double& w : want) w /= comm.size();
    // f32: reduction-order rounding only; f16/bf16: the f32 result rounded once to storage.
    EXPECT_LT(wpm_test::rel_error(buffer.download(), want), dtype() == WPM_F32 ? 1e-6 : 4e-3)
        << "op " << op << " on " << comm.size() << " ranks";
  }
}

TEST_P(CollectiveTest, StartedAllReducesCompleteInOrderAtWait) {
  Context context(kind());
  Comm comm(context);
  std::vector<Buffer> buckets;
  const size_t sizes[] = {7, 300, 1, 64};
  for (size_t b = 0; b < 4; ++b) {
    std::vector<float> values = inputs(comm.rank() + static_cast<int>(b), sizes[b], dtype());
    buckets.emplace_back(context, dtype(), values);
  }
  for (Buffer& bucket : buckets) WPM_ASSERT_OK(wpm_all_reduce_start(comm, bucket, WPM_REDUCE_SUM));
  WPM_ASSERT_OK(wpm_comm_wait(comm));
  for (size_t b = 0; b < 4; ++b) {
    std::vector<double> want(sizes[b], 0.0);
    for (int r = 0; r < comm.size(); ++r)
      for (size_t i = 0; i < sizes[b]; ++i) want[i] += input(r + static_cast<int>(b), i, dtype());
    EXPECT_LT(wpm_test::rel_error(buckets[b].download(), want), dtype() == WPM_F32 ? 1e-6 : 4e-3) << "bucket " << b;
  }
  WPM_ASSERT_OK(wpm_comm_wait(comm));  // nothing pending: a no-op
}

// On emu the all-reduces are stream-ordered work that exchanges on the device memory when the stream runs it;
// a wait with host copies asked for waits for the stream once, for every all-reduce started before it, and
// reads nothing back (the work itself writes the copies), a bucket above the size of an upload that never
// waits included; the host copies hold what the buffers then hold. On cpu the same calls give the same values
// (nothing is counted there).
TEST_P(CollectiveTest, StartedAllReducesWithHostCopiesShareOneHostWait) {
  Context context(kind());
  Comm comm(context);
  const size_t sizes[] = {5, 150000, 3};  // 150000 elements: above 256 KiB in every dtype
  std::vector<Buffer> buckets;
  std::vector<std::vector<float>> copies;
  for (size_t b = 0; b < 3; ++b) {
    buckets.emplace_back(context, dtype(), inputs(comm.rank() + static_cast<int>(b), sizes[b], dtype()));
    copies.emplace_back(sizes[b], std::nanf(""));
  }
  const bool counted = kind() == WPM_BACKEND_EMU;
  wpm_device_counters before{sizeof(wpm_device_counters)}, after{sizeof(wpm_device_counters)};
  if (counted) WPM_ASSERT_OK(wpm_context_device_counters(context, &before));
  for (size_t b = 0; b < 3; ++b)
    WPM_ASSERT_OK(wpm_all_reduce_start_copy(comm, buckets[b], WPM_REDUCE_MEAN, copies[b].data(),
                                            static_cast<int64_t>(sizes[b])));
  WPM_ASSERT_OK(wpm_comm_wait(comm));
  if (counted) {
    WPM_ASSERT_OK(wpm_context_device_counters(context, &after));
    EXPECT_EQ(after.host_waits - before.host_waits, 1u) << "one wait for every started all-reduce";
    EXPECT_EQ(after.d2h_copies - before.d2h_copies, 0u) << "the queued exchange reads the device memory itself";
    EXPECT_EQ(after.h2d_copies - before.h2d_copies, 0u);
  }
  for (size_t b = 0; b < 3; ++b) {
    std::vector<double> want(sizes[b], 0.0);
    for (int r = 0; r < comm.size(); ++r)
      for (size_t i = 0; i < sizes[b]; ++i) want[i] += input(r + static_cast<int>(b), i, dtype()) / comm.size();
    std::vector<float> held = buckets[b].download();
    EXPECT_LT(wpm_test::rel_error(held, want), dtype() == WPM_F32 ? 1e-6 : 4e-3) << "bucket " << b;
    for (size_t i = 0; i < sizes[b]; ++i) ASSERT_EQ(copies[b][i], held[i]) << "bucket " << b << " element " << i;
  }
}

TEST_P(CollectiveTest, BroadcastCopiesTheRootsBufferBitForBit) {
  Context context(kind());
  Comm comm(context);
  const int root = comm.size() - 1;
  Buffer buffer(context, dtype(), inputs(comm.rank(), 513, dtype()));
  WPM_ASSERT_OK(wpm_broadcast(comm, buffer, root));
  std::vector<float> got = buffer.download(), want = inputs(root, 513, dtype());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
}

TEST_P(CollectiveTest, AllGatherConcatenatesInRankOrder) {
  Context context(kind());
  Comm comm(context);
  const size_t n = 37;
  Buffer send(context, dtype(), inputs(comm.rank(), n, dtype()));
  Buffer recv(context, dtype(), n * comm.size());
  recv.poison();
  WPM_ASSERT_OK(wpm_all_gather(comm, send, recv));
  std::vector<float> got = recv.download();
  for (int r = 0; r < comm.size(); ++r)
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[r * n + i], input(r, i, dtype())) << "rank " << r << " element " << i;
}

TEST_P(CollectiveTest, ReduceScatterGivesEachRankItsBlockOfTheSum) {
  Context context(kind());
  Comm comm(context);
  const size_t n = 129;
  for (wpm_reduce_op op : {WPM_REDUCE_SUM, WPM_REDUCE_MEAN}) {
    Buffer send(context, dtype(), inputs(comm.rank(), n * comm.size(), dtype()));
    Buffer recv(context, dtype(), n);
    recv.poison();
    WPM_ASSERT_OK(wpm_reduce_scatter(comm, send, recv, op));
    std::vector<double> want(n, 0.0);
    for (int r = 0; r < comm.size(); ++r)
      for (size_t i = 0; i < n; ++i) want[i] += input(r, comm.rank() * n + i, dtype());
    if (op == WPM_REDUCE_MEAN)
      for (double& w : want) w /= comm.size();
    EXPECT_LT(wpm_test::rel_error(recv.download(), want), dtype() == WPM_F32 ? 1e-6 : 4e-3) << "op " << op;
  }
}

TEST_P(CollectiveTest, BarrierReturnsOnEveryRank) {
  Context context(kind());
  Comm comm(context);
  WPM_ASSERT_OK(wpm_barrier(comm));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, CollectiveTest,
    testing::Combine(testing::Values(Backend{WPM_BACKEND_CPU, "cpu"}, Backend{WPM_BACKEND_EMU, "emu"}),
                     testing::Values(WPM_F32, WPM_F16, WPM_BF16)),
    [](const auto& info) {
      return std::string(std::get<0>(info.param).name) + "_" + wpm_test::dtype_label(std::get<1>(info.param));
    });

// The emu backend's collectives are stream-ordered device work (queued_exchange.h), in both queue modes
// (ctest runs this binary again with WORLDPM_EMU_QUEUE=deferred): queuing them waits for nothing, each runs
// after the work queued before it (a collective's output is the next one's input here) and before the work
// queued after it (a device copy), and the next read-back sees them all.
class EmuQueuedCollectives : public testing::TestWithParam<wpm_dtype> {
 protected:
  wpm_dtype dtype() const { return GetParam(); }
};

wpm_device_counters counters(wpm_context* context) {
  wpm_device_counters c{sizeof(wpm_device_counters)};
  if (wpm_context_device_counters(context, &c) != WPM_OK) ADD_FAILURE() << wpm_last_error();
  return c;
}

TEST_P(EmuQueuedCollectives, QueueWithoutAHostWaitAndRunInStreamOrder) {
  Context context(WPM_BACKEND_EMU);
  Comm comm(context);
  ASSERT_GT(comm.size(), 0);
  const size_t n = 96, ranks = static_cast<size_t>(comm.size());
  const int root = comm.size() - 1;
  Buffer reduced(context, dtype(), inputs(comm.rank(), n, dtype()));
  Buffer scatter_in(context, dtype(), inputs(comm.rank() + 7, n * ranks, dtype()));
  Buffer block(context, dtype(), n), gathered(context, dtype(), n * ranks), copied(context, dtype(), n);
  Buffer shared(context, dtype(), inputs(comm.rank() + 3, n, dtype()));
  block.poison();
  gathered.poison();
  copied.poison();
  const wpm_device_counters before = counters(context);
  WPM_ASSERT_OK(wpm_all_reduce(comm, reduced, WPM_REDUCE_MEAN));
  WPM_ASSERT_OK(wpm_reduce_scatter(comm, scatter_in, block, WPM_REDUCE_SUM));
  WPM_ASSERT_OK(wpm_all_gather(comm, block, gathered));  // reads the reduce-scatter's output
  WPM_ASSERT_OK(wpm_broadcast(comm, shared, root));
  WPM_ASSERT_OK(wpm_buffer_copy(copied, reduced));  // a device copy queued after the all-reduce
  WPM_ASSERT_OK(wpm_comm_wait(comm));
  const wpm_device_counters after = counters(context);
  EXPECT_EQ(after.host_waits, before.host_waits) << "a queued collective waits for nothing";
  EXPECT_EQ(after.d2h_copies, before.d2h_copies);
  EXPECT_EQ(after.h2d_copies, before.h2d_copies);

  const double tolerance = dtype() == WPM_F32 ? 1e-6 : 4e-3;
  std::vector<double> mean(n, 0.0), sums(n * ranks, 0.0);
  for (int r = 0; r < comm.size(); ++r) {
    for (size_t i = 0; i < n; ++i) mean[i] += input(r, i, dtype()) / comm.size();
    for (size_t i = 0; i < n * ranks; ++i) sums[i] += input(r + 7, i, dtype());
  }
  std::vector<float> got_reduced = reduced.download();
  EXPECT_LT(wpm_test::rel_error(got_reduced, mean), tolerance);
  EXPECT_LT(wpm_test::rel_error(block.download(), std::vector<double>(sums.begin() + comm.rank() * n,
                                                                      sums.begin() + (comm.rank() + 1) * n)),
            tolerance);
  EXPECT_LT(wpm_test::rel_error(gathered.download(), sums), tolerance);
  std::vector<float> got_shared = shared.download(), got_copied = copied.download();
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(got_shared[i], input(root + 3, i, dtype())) << "element " << i;
    ASSERT_EQ(got_copied[i], got_reduced[i]) << "the copy queued after the all-reduce, element " << i;
  }
}

// A collective recorded into a graph runs at every replay on the bytes the buffers then hold, with results equal
// bit for bit to the same collectives run eagerly; recording one runs nothing.
TEST_P(EmuQueuedCollectives, RecordedCollectivesReplayLikeEagerOnes) {
  Context context(WPM_BACKEND_EMU);
  Comm comm(context);
  ASSERT_GT(comm.size(), 0);
  const size_t n = 40, ranks = static_cast<size_t>(comm.size());
  Buffer grads(context, dtype(), n * ranks), block(context, dtype(), n), gathered(context, dtype(), n * ranks);
  auto step = [&] {
    WPM_ASSERT_OK(wpm_all_reduce_start(comm, grads, WPM_REDUCE_MEAN));
    WPM_ASSERT_OK(wpm_comm_wait(comm));
    WPM_ASSERT_OK(wpm_reduce_scatter(comm, grads, block, WPM_REDUCE_SUM));
    WPM_ASSERT_OK(wpm_all_gather(comm, block, gathered));
  };
  std::vector<std::vector<float>> eager;
  for (int s = 0; s < 2; ++s) {
    grads.upload(inputs(comm.rank() + 11 * s, n * ranks, dtype()));
    step();
    eager.push_back(gathered.download());
  }

  const std::vector<float> first = inputs(comm.rank(), n * ranks, dtype());
  grads.upload(first);
  gathered.poison();
  WPM_ASSERT_OK(wpm_graph_capture_begin(context));
  step();
  wpm_graph* graph = nullptr;
  WPM_ASSERT_OK(wpm_graph_capture_end(context, &graph));
  std::vector<float> untouched = grads.download();
  for (size_t i = 0; i < untouched.size(); ++i) ASSERT_EQ(untouched[i], first[i]) << "recording ran the all-reduce";
  for (int s = 0; s < 2; ++s) {
    grads.upload(inputs(comm.rank() + 11 * s, n * ranks, dtype()));
    gathered.poison();
    WPM_ASSERT_OK(wpm_graph_launch(context, graph));
    std::vector<float> replayed = gathered.download();
    for (size_t i = 0; i < replayed.size(); ++i)
      ASSERT_EQ(replayed[i], eager[s][i]) << "replay " << s << " element " << i;
  }
  WPM_ASSERT_OK(wpm_graph_destroy(graph));
}

// A recorded all-reduce cannot fill a host copy (a replay has nobody to wait for it): refused, naming the argument.
TEST(EmuQueuedCollectivesErrors, AHostCopyIsRefusedWhileCapturing) {
  Context context(WPM_BACKEND_EMU);
  Comm comm(context);
  Buffer grads(context, WPM_F32, 8);
  std::vector<float> copy(8);
  WPM_ASSERT_OK(wpm_graph_capture_begin(context));
  expect_error(wpm_all_reduce_start_copy(comm, grads, WPM_REDUCE_SUM, copy.data(), 8), WPM_ERR_INVALID_ARGUMENT,
               {"wpm_all_reduce_start_copy", "'host_copy'", "recorded"});
  EXPECT_STREQ(wpm_last_error_argument(), "host_copy");
  wpm_graph* graph = nullptr;
  WPM_ASSERT_OK(wpm_graph_capture_end(context, &graph));
  WPM_ASSERT_OK(wpm_graph_destroy(graph));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, EmuQueuedCollectives, testing::Values(WPM_F32, WPM_F16, WPM_BF16),
                         [](const auto& info) { return std::string(wpm_test::dtype_label(info.param)); });

TEST(CommErrors, BadArgumentsAreNamed) {
  Context context(WPM_BACKEND_CPU), other(WPM_BACKEND_CPU);
  Comm comm(context);
  Buffer mine(context, WPM_F32, 8), theirs(other, WPM_F32, 8), ids(context, WPM_I32, 8);
  Buffer gathered(context, WPM_F32, 8 * comm.size() + 1), half(context, WPM_BF16, 8);
  expect_error(wpm_all_reduce(nullptr, mine, WPM_REDUCE_SUM), WPM_ERR_INVALID_ARGUMENT, "'comm' is NULL");
  expect_error(wpm_all_reduce(comm, theirs, WPM_REDUCE_SUM), WPM_ERR_WRONG_CONTEXT, "'buffer'");
  expect_error(wpm_all_reduce(comm, ids, WPM_REDUCE_SUM), WPM_ERR_DTYPE, {"'buffer'", "i32"});
  expect_error(wpm_all_reduce(comm, mine, static_cast<wpm_reduce_op>(7)), WPM_ERR_INVALID_ARGUMENT, "'op'");
  expect_error(wpm_broadcast(comm, mine, comm.size()), WPM_ERR_INVALID_ARGUMENT, "'root'");
  expect_error(wpm_all_gather(comm, mine, gathered), WPM_ERR_INVALID_ARGUMENT, "'recv'");
  expect_error(wpm_all_gather(comm, mine, half), WPM_ERR_DTYPE, "'recv'");
  expect_error(wpm_reduce_scatter(comm, gathered, mine, WPM_REDUCE_SUM), WPM_ERR_INVALID_ARGUMENT, "'send'");
  std::vector<float> copy(8);
  expect_error(wpm_all_reduce_start_copy(comm, mine, WPM_REDUCE_SUM, nullptr, 8), WPM_ERR_INVALID_ARGUMENT,
               "'host_copy' is NULL");
  expect_error(wpm_all_reduce_start_copy(comm, mine, WPM_REDUCE_SUM, copy.data(), 7), WPM_ERR_INVALID_ARGUMENT,
               {"'host_count'", "(8)"});
  int32_t rank = 0, size = 0;
  expect_error(wpm_comm_rank(comm, nullptr, &size), WPM_ERR_INVALID_ARGUMENT, "'rank'");
  expect_error(wpm_comm_rank(reinterpret_cast<wpm_comm*>(mine.get()), &rank, &size), WPM_ERR_INVALID_ARGUMENT,
               "not a live communicator");
  wpm_comm_options bad{sizeof(wpm_comm_options), -1};
  wpm_comm* unused = nullptr;
  expect_error(wpm_comm_create(context, &bad, &unused), WPM_ERR_INVALID_ARGUMENT, "timeout_seconds");
  EXPECT_EQ(unused, nullptr);
}

TEST(CommQuery, ReportsTheLaunchAndWhyNcclIsUnavailable) {
  wpm_comm_info info{sizeof(wpm_comm_info)};
  WPM_ASSERT_OK(wpm_comm_query(&info));
  EXPECT_EQ(info.mpi_built, 1);
  Context context(WPM_BACKEND_CPU);
  Comm comm(context);
  EXPECT_EQ(info.world_size, comm.size());
  EXPECT_EQ(info.rank, comm.rank());
  EXPECT_EQ(info.launched, comm.size() > 1 ? 1 : 0);
  // No GPU machine here has NCCL: the reason names the library it looked for.
  if (!info.nccl_available) EXPECT_NE(std::string(info.nccl).find("libnccl.so.2"), std::string::npos) << info.nccl;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  int failed = RUN_ALL_TESTS();
  // Under mpirun a rank must shut MPI down cleanly, or the launcher reports the job as failed.
  if (wpm_comm_finalize() != WPM_OK) {
    std::fprintf(stderr, "wpm_comm_finalize: %s\n", wpm_last_error());
    return 1;
  }
  return failed;
}
