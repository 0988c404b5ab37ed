// The one thread of this process that talks to MPI. MPI is started on it
// (MPI_THREAD_FUNNELED: only this thread calls MPI), and every collective of
// every communicator runs on it, one at a time, in the order posted. Callers
// either wait for a task (run) or post it and wait later (post), which is how
// an all-reduce of one gradient bucket runs while the backward of the next
// layers goes on: the thread keeps MPI progressing without the caller.
//
// MPI_Init_thread waits for every rank of the launch. The caller of start()
// waits for it only up to the timeout (twice that when every rank is known to
// have arrived and only MPI's start-up is slow): when a rank never arrives,
// start() fails with WPM_ERR_COMM naming it (ArrivalBoard) and the MPI thread is left
// blocked in MPI_Init_thread; the process should then exit non-zero, and
// mpirun ends the others.
//
// WORLDPM_TEST_STOP_RANK_BEFORE_MPI_START=R (tests only): rank R stops itself
// (SIGSTOP) in start(), before it records its arrival or starts MPI, the way
// a rank stopped early in a launch would.
//
// The object lives for the whole process (never destroyed: a joinable thread
// in a static destructor would terminate the process at exit).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "outcome.h"

namespace wpm::comm {

class MpiThread {
 public:
  static MpiThread& instance();

  // Starts the thread and MPI on first call, waiting at most timeout_seconds for
  // every rank to arrive; later calls report how that went.
  Outcome start(double timeout_seconds);
  // Queues task on the MPI thread; the future holds its outcome.
  std::future<Outcome> post(std::function<Outcome()> task);
  Outcome run(std::function<Outcome()> task) { return post(std::move(task)).get(); }
  // MPI_Finalize on the MPI thread (collective over all ranks); afterwards start() fails.
  Outcome finalize();
  bool running();
  // "Open MPI v4.1.4, ..." (MPI_Get_library_version, first line), known once started.
  std::string library_version();

 private:
  MpiThread() = default;
  // The MPI thread's start and the bounded wait for it (start() without the state).
  Outcome start_mpi(double timeout_seconds);
  void loop(std::promise<Outcome> started);

  enum class State { kNotStarted, kRunning, kFailed, kFinalized };
  std::mutex starting_;  // held through start(): one caller starts MPI, the others wait for its outcome
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<Outcome()>> queue_;
  State state_ = State::kNotStarted;
  Outcome start_outcome_;
  std::string version_;
};

}  // namespace wpm::comm
