#include "mpi_thread.h"
#include "peer_watch.h"

#include <dlfcn.h>
#include <mpi.h>

#include <cstdlib>

namespace wpm::comm {
namespace {

// OpenMPI opens its transport plugins with dlopen and they expect the symbols of
// libmpi to be global, but .NET loads libworldpm (and with it libmpi) with
// RTLD_LOCAL. Re-opening the already loaded libmpi with RTLD_GLOBAL | RTLD_NOLOAD
// promotes it without loading anything new.
void make_mpi_symbols_global() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &info) != 0 && info.dli_fname != nullptr)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}


}  // namespace

MpiThread& MpiThread::instance() {
  static MpiThread* const thread = new MpiThread();  // never destroyed: see the header
  return *thread;
}

Outcome MpiThread::start() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (state_ == State::kNotStarted) {
    std::promise<Outcome> started;
    std::future<Outcome> result = started.get_future();
    std::thread(&MpiThread::loop, this, std::move(started)).detach();
    lock.unlock();
    Outcome outcome = result.get();
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
    int code = MPI_Finalize();
    if (code != MPI_SUCCESS) return Outcome::failure(WPM_ERR_COMM, "MPI_Finalize failed: " + mpi_error_text(code));
    return Outcome{};
  });
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = State::kFinalized;
  return outcome;
}

void MpiThread::loop(std::promise<Outcome> started) {
  make_mpi_symbols_global();
  // OpenMPI would install its own SIGSEGV/SIGBUS/SIGFPE handlers over the host
  // runtime's (.NET turns SIGSEGV into NullReferenceException); keep the host's.
  setenv("OMPI_MCA_opal_signal", "", 0);
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    int code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (code != MPI_SUCCESS) {
      started.set_value(Outcome::failure(WPM_ERR_COMM, "MPI_Init_thread failed: " + mpi_error_text(code)));
      return;
    }
  }
  // Failures come back as codes (turned into WPM_ERR_COMM), never as an abort of the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  {
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(text, &length);
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
