// A rank that never reaches MPI start-up: under `mpirun -np 2` with
// WORLDPM_TEST_STOP_RANK_BEFORE_MPI_START=1 (ctest comm.stopped_before_start),
// rank 1 stops itself inside wpm_comm_create before it starts MPI, so rank 0's
// MPI_Init_thread can never complete. Rank 0's wpm_comm_create must fail with
// WPM_ERR_COMM within the timeout, naming rank 1 and its host, instead of
// waiting forever; rank 0 then exits, and mpirun ends rank 1 and the launch
// (ctest's timeout fails the test if it does not).
#include <gtest/gtest.h>
#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "test_util.h"
#include "worldpm.h"

namespace {

TEST(StoppedBeforeStart, CreateFailsWithinTheTimeoutNamingTheRankThatNeverCame) {
  wpm_test::Context context(1);
  const double timeout = 2.0;
  wpm_comm_options quick{sizeof(wpm_comm_options), timeout};
  wpm_comm* comm = nullptr;

  auto start = std::chrono::steady_clock::now();
  wpm_status status = wpm_comm_create(context, &quick, &comm);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string message = wpm_last_error();
  char host[HOST_NAME_MAX + 1] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(status, WPM_ERR_COMM) << message;
  EXPECT_EQ(comm, nullptr);
  EXPECT_NE(message.find("rank 0 (host " + std::string(host) + ")"), std::string::npos) << message;
  EXPECT_NE(message.find("did not complete within 2 s: rank 1 (host " + std::string(host) + ") did not arrive"),
            std::string::npos)
      << message;
  EXPECT_GE(seconds, timeout);
  EXPECT_LT(seconds, timeout + 3.0);

  // MPI cannot start in this process any more: the next attempt fails at once with the same reason.
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(wpm_comm_create(context, &quick, &comm), WPM_ERR_COMM);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  EXPECT_NE(std::string(wpm_last_error()).find("rank 1 (host "), std::string::npos) << wpm_last_error();
}

}  // namespace
