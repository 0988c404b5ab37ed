// A rank that stops answering: under `mpirun -np 2` (ctest comm.stopped_rank),
// rank 1 stops itself (SIGSTOP) before an all-reduce; rank 0's all-reduce must
// fail with WPM_ERR_COMM within the timeout plus the probe window, naming
// rank 1, instead of waiting forever. Rank 0 then wakes rank 1 (SIGCONT), rank
// 1 joins the all-reduce rank 0 abandoned (rank 0's request is still posted, so
// both sides complete), and both meet on a second communicator, so the job
// ends cleanly. The second test does the same on emu, where the collective is
// stream-ordered work and the failure surfaces at the drain that runs it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.h"
#include "worldpm.h"

namespace {

using wpm_test::Buffer;

// Two communicators on one context of `backend`: `watched` with a 2 s timeout (the one a rank stops answering on)
// and `calm` without (for the pid exchange before and the barrier after), and both ranks' pids.
struct TwoRanks {
  static constexpr double kTimeout = 2.0;
  wpm_context* context = nullptr;
  wpm_comm* watched = nullptr;
  wpm_comm* calm = nullptr;
  int32_t rank = 0;
  std::vector<int32_t> pids = std::vector<int32_t>(2);

  // Fatal failures return early; the caller checks HasFatalFailure.
  void create(wpm_backend backend) {
    wpm_context_options options{sizeof(wpm_context_options), backend, 1, 0};
    WPM_ASSERT_OK(wpm_context_create(&options, &context));
    wpm_comm_options quick{sizeof(wpm_comm_options), kTimeout};
    WPM_ASSERT_OK(wpm_comm_create(context, &quick, &watched));
    WPM_ASSERT_OK(wpm_comm_create(context, nullptr, &calm));
    int32_t size = 0;
    WPM_ASSERT_OK(wpm_comm_rank(watched, &rank, &size));
    ASSERT_EQ(size, 2) << "run this test under mpirun -np 2";
    Buffer all(context, WPM_I32, 2), mine(context, WPM_I32, 1);
    mine.upload_i32({static_cast<int32_t>(getpid())});
    WPM_ASSERT_OK(wpm_all_gather(calm, mine, all));
    WPM_ASSERT_OK(wpm_buffer_read(all, 0, pids.data(), 2));
  }
  // Both ranks meet on the calm communicator, so the job ends cleanly.
  void finish() {
    WPM_ASSERT_OK(wpm_barrier(calm));
    wpm_comm_destroy(watched);
    wpm_comm_destroy(calm);
    wpm_context_destroy(context);
  }
};

TEST(StoppedRank, TheWaitingRankFailsInBoundedTimeNamingTheSilentRank) {
  TwoRanks ranks;
  ranks.create(WPM_BACKEND_CPU);
  if (HasFatalFailure()) return;
  wpm_context* context = ranks.context;
  wpm_comm* watched = ranks.watched;
  const int32_t rank = ranks.rank;
  const double timeout = TwoRanks::kTimeout;
  {
    const std::vector<int32_t>& both = ranks.pids;
    Buffer values(context, WPM_F32, std::vector<float>(16, 1.0f));
    if (rank == 1) {
      raise(SIGSTOP);  // until rank 0 has seen the timeout
      WPM_ASSERT_OK(wpm_all_reduce(watched, values, WPM_REDUCE_SUM));
    } else {
      auto start = std::chrono::steady_clock::now();
      wpm_status status = wpm_all_reduce(watched, values, WPM_REDUCE_SUM);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::string message = wpm_last_error();
      kill(both[1], SIGCONT);
      EXPECT_EQ(status, WPM_ERR_COMM) << message;
      EXPECT_NE(message.find("rank 1 did not answer"), std::string::npos) << message;
      EXPECT_NE(message.find("within 2 s"), std::string::npos) << message;
      EXPECT_GE(seconds, timeout);
      EXPECT_LT(seconds, timeout + 6.0) << "the probe window is at most 5 s";
      // Broken for good: the next collective fails at once with the same message.
      EXPECT_EQ(wpm_all_reduce(watched, values, WPM_REDUCE_SUM), WPM_ERR_COMM);
    }
  }
  ranks.finish();
}

// The same on emu, where the all-reduce is stream-ordered work: in the deferred queue mode (ctest
// comm.stopped_rank_deferred) queuing it succeeds and the failure is the status of the read-back that ran it,
// naming the collective and the call that queued it; in the immediate mode the call itself runs it and fails.
TEST(StoppedRank, OnEmuTheQueuedCollectiveFailsAtTheDrainNamingTheSilentRank) {
  const char* queue = std::getenv("WORLDPM_EMU_QUEUE");
  const bool deferred = queue != nullptr && std::string(queue) == "deferred";
  TwoRanks ranks;
  ranks.create(WPM_BACKEND_EMU);
  if (HasFatalFailure()) return;
  wpm_context* context = ranks.context;
  wpm_comm* watched = ranks.watched;
  const int32_t rank = ranks.rank;
  const double timeout = TwoRanks::kTimeout;
  {
    const std::vector<int32_t>& both = ranks.pids;
    Buffer values(context, WPM_F32, std::vector<float>(16, 1.0f));
    if (rank == 1) {
      raise(SIGSTOP);  // until rank 0 has seen the timeout
      WPM_ASSERT_OK(wpm_all_reduce(watched, values, WPM_REDUCE_SUM));  // runs at the barrier's drain when deferred
    } else {
      auto start = std::chrono::steady_clock::now();
      wpm_status status = wpm_all_reduce(watched, values, WPM_REDUCE_SUM);
      if (deferred) {
        EXPECT_EQ(status, WPM_OK) << "queued, not run: " << wpm_last_error();
        float first = 0;
        status = wpm_buffer_read(values, 0, &first, 1);
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::string message = wpm_last_error();
      kill(both[1], SIGCONT);
      EXPECT_EQ(status, WPM_ERR_COMM) << message;
      EXPECT_NE(message.find("all_reduce of 16 elements queued on the stream by wpm_all_reduce failed"),
                std::string::npos)
          << message;
      EXPECT_NE(message.find("rank 1 did not answer"), std::string::npos) << message;
      EXPECT_NE(message.find("within 2 s"), std::string::npos) << message;
      EXPECT_GE(seconds, timeout);
      EXPECT_LT(seconds, timeout + 6.0) << "the probe window is at most 5 s";
      // Broken for good: the next collective is refused when it is started.
      EXPECT_EQ(wpm_all_reduce(watched, values, WPM_REDUCE_SUM), WPM_ERR_COMM);
    }
  }
  ranks.finish();
}

}  // namespace
