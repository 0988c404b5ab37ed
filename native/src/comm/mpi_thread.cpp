#include "mpi_thread.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "arrival_board.h"
#include "launch_env.h"
#include "mpi_library.h"
#include "peer_watch.h"

namespace wpm::comm {

MpiThread& MpiThread::instance() {
  static MpiThread* const thread = new MpiThread();  // never destroyed: see the header
  return *thread;
}

Outcome MpiThread::start(double timeout_seconds) {
  std::lock_guard<std::mutex> one_starter(starting_);
  std::unique_lock<std::mutex> lock(mutex_);
  std::string missing;
  if (state_ == State::kNotStarted && mpi_library(&missing) == nullptr) {
    start_outcome_ = Outcome::failure(WPM_ERR_BACKEND_UNAVAILABLE, "MPI is unavailable: " + missing);
    state_ = State::kFailed;
  }
  if (state_ == State::kNotStarted) {
    lock.unlock();
    Outcome outcome = start_mpi(timeout_seconds);
    lock.lock();
    start_outcome_ = outcome;
    state_ = outcome.ok() ? State::kRunning : State::kFailed;
  }
  switch (state_) {
    case State::kRunning: return {};
    case State::kFinalized:
      return Outcome::failure(WPM_ERR_COMM, "MPI was finalized in this process (wpm_comm_finalize); it cannot start again");
    default: return start_outcome_;
  }
}

Outcome MpiThread::start_mpi(double timeout_seconds) {
  const LaunchEnv env = read_launch_env();
  if (const char* stop = std::getenv("WORLDPM_TEST_STOP_RANK_BEFORE_MPI_START");
      stop != nullptr && env.launched && std::to_string(env.rank) == stop)
    raise(SIGSTOP);
  ArrivalBoard board(env);
  board.announce();
  std::promise<Outcome> started;
  std::future<Outcome> result = started.get_future();
  std::thread(&MpiThread::loop, this, std::move(started)).detach();
  const auto timeout = std::chrono::duration<double>(timeout_seconds);
  if (result.wait_for(timeout) == std::future_status::ready) return result.get();
  // The timeout bounds the wait for the other ranks: once every rank is known to be inside MPI_Init_thread, MPI's
  // own start-up (slow on a busy host) gets one more timeout.
  if (board.everyone_arrived() && result.wait_for(timeout) == std::future_status::ready) return result.get();
  // MPI_Init_thread cannot be interrupted: the MPI thread stays in it, and this process can only report and end.
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", timeout_seconds);
  return Outcome::failure(WPM_ERR_COMM, "rank " + std::to_string(env.rank) + " (host " + board.host() +
                                            "): MPI start-up (MPI_Init_thread) did not complete within " + seconds +
                                            " s: " + board.missing());
}

bool MpiThread::running() {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_ == State::kRunning;
}

std::string MpiThread::library_version() {
  std::lock_guard<std::mutex> lock(mutex_);
  return version_;
}

std::future<Outcome> MpiThread::post(std::function<Outcome()> task) {
  std::packaged_task<Outcome()> packaged(std::move(task));
  std::future<Outcome> result = packaged.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(packaged));
  }
  ready_.notify_one();
  return result;
}

Outcome MpiThread::finalize() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (state_ != State::kRunning) return {};
  }
  Outcome outcome = run([] {
    int code = mpi().Finalize();
    if (code != MPI_SUCCESS) return Outcome::failure(WPM_ERR_COMM, "MPI_Finalize failed: " + mpi_error_text(code));
    return Outcome{};
  });
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = State::kFinalized;
  return outcome;
}

void MpiThread::loop(std::promise<Outcome> started) {
  // OpenMPI would install its own SIGSEGV/SIGBUS/SIGFPE handlers over the host
  // runtime's (.NET turns SIGSEGV into NullReferenceException); keep the host's.
  setenv("OMPI_MCA_opal_signal", "", 0);
  int initialized = 0;
  mpi().Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    int code = mpi().Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (code != MPI_SUCCESS) {
      started.set_value(Outcome::failure(WPM_ERR_COMM, "MPI_Init_thread failed: " + mpi_error_text(code)));
      return;
    }
  }
  // Failures come back as codes (turned into WPM_ERR_COMM), never as an abort of the job.
  mpi().Comm_set_errhandler(mpi().COMM_WORLD, mpi().ERRORS_RETURN);
  {
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    mpi().Get_library_version(text, &length);
    std::string version(text, static_cast<size_t>(length));
    std::lock_guard<std::mutex> lock(mutex_);
    version_ = version.substr(0, version.find_first_of(",\n"));
  }
  started.set_value({});

  for (;;) {
    std::packaged_task<Outcome()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [&] { return !queue_.empty(); });
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace wpm::comm
