#include "peer_watch.h"

#include "mpi_thread.h"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

namespace wpm::comm {
namespace {

constexpr int kPingTag = 1, kPongTag = 2;
using Clock = std::chrono::steady_clock;

// Polling gets sparser the longer a wait lasts: quick collectives finish within
// the first spins, long waits cost the compute threads (2 cores here) almost nothing.
void back_off(int polls) {
  if (polls < 64) return;
  std::this_thread::sleep_for(std::chrono::microseconds(polls < 1024 ? 20 : 500));
}

}  // namespace

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (mpi().Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

PeerWatch::PeerWatch(MPI_Comm control, int rank, int size, double timeout_seconds)
    : control_(control), rank_(rank), size_(size), timeout_seconds_(timeout_seconds) {
  if (size_ > 1) mpi().Irecv(&ping_payload_, 1, mpi().INT, MPI_ANY_SOURCE, kPingTag, control_, &ping_request_);
}

PeerWatch::~PeerWatch() {
  if (ping_request_ != mpi().REQUEST_NULL) {
    mpi().Cancel(&ping_request_);
    mpi().Request_free(&ping_request_);
  }
}

void PeerWatch::serve_probes() {
  if (ping_request_ == mpi().REQUEST_NULL) return;
  for (;;) {
    int arrived = 0;
    MPI_Status status;
    if (mpi().Test(&ping_request_, &arrived, &status) != MPI_SUCCESS || !arrived) return;
    int answer = rank_;
    // Eager-sized: completes locally even if the prober has gone since.
    mpi().Send(&answer, 1, mpi().INT, status.MPI_SOURCE, kPongTag, control_);
    mpi().Irecv(&ping_payload_, 1, mpi().INT, MPI_ANY_SOURCE, kPingTag, control_, &ping_request_);
  }
}

Outcome PeerWatch::fail(const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    broken_message_ = message;
  }
  return Outcome::failure(WPM_ERR_COMM, message);
}

Outcome PeerWatch::await(MPI_Request* request, const std::string& what) {
  return await(
      [request] {
        Poll poll;
        int done = 0;
        int code = mpi().Test(request, &done, MPI_STATUS_IGNORE);
        if (code != MPI_SUCCESS) poll.error = "MPI: " + mpi_error_text(code);
        poll.done = done != 0;
        return poll;
      },
      what);
}

Outcome PeerWatch::await(const std::function<Poll()>& poll, const std::string& what) {
  if (std::string message = broken_message(); !message.empty()) return Outcome::failure(WPM_ERR_COMM, message);
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds_));
  for (int polls = 0;; ++polls) {
    Poll now = poll();
    if (!now.error.empty()) return fail("rank " + std::to_string(rank_) + ": " + what + " failed in " + now.error);
    if (now.done) return {};
    serve_probes();
    if (Clock::now() > deadline) break;
    back_off(polls);
  }
  std::string silent = silent_ranks();
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", timeout_seconds_);
  std::string message = "rank " + std::to_string(rank_) + ": " + what + " did not complete within " + seconds + " s: ";
  if (!silent.empty())
    message += silent + " did not answer (died, stopped, or did not reach the collective in time)";
  else
    message += "every rank is alive, but they did not all enter this collective (a different call order or count)";
  // The request can never complete now; leave it to MPI (it is freed at finalize, which a broken run skips).
  return fail(message);
}

std::string PeerWatch::silent_ranks() {
  if (size_ <= 1) return "";
  std::vector<MPI_Request> pongs, pings;
  std::vector<int> answers(size_, -1), peers;
  int ping = rank_;
  for (int peer = 0; peer < size_; ++peer) {
    if (peer == rank_) continue;
    peers.push_back(peer);
    MPI_Request r;
    mpi().Irecv(&answers[peer], 1, mpi().INT, peer, kPongTag, control_, &r);
    pongs.push_back(r);
    mpi().Isend(&ping, 1, mpi().INT, peer, kPingTag, control_, &r);
    pings.push_back(r);
  }
  // A live rank answers within its polling interval; a few seconds is plenty, and short of the timeout.
  const double window = std::clamp(timeout_seconds_ / 4, 0.5, 5.0);
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(window));
  std::vector<bool> answered(peers.size(), false);
  for (int polls = 0; Clock::now() < deadline; ++polls) {
    bool all = true;
    for (size_t i = 0; i < peers.size(); ++i) {
      if (!answered[i]) {
        int done = 0;
        mpi().Test(&pongs[i], &done, MPI_STATUS_IGNORE);
        answered[i] = done != 0;
      }
      all = all && answered[i];
    }
    if (all) break;
    serve_probes();  // the other ranks may be probing too
    back_off(polls);
  }
  std::string silent;
  for (size_t i = 0; i < peers.size(); ++i) {
    if (!answered[i]) {
      mpi().Cancel(&pongs[i]);
      mpi().Request_free(&pongs[i]);
      silent += (silent.empty() ? "rank " : ", rank ") + std::to_string(peers[i]);
    }
    if (pings[i] != mpi().REQUEST_NULL) mpi().Request_free(&pings[i]);
  }
  return silent;
}

Outcome duplicate_world(std::initializer_list<MPI_Comm*> copies, double timeout_seconds) {
  int rank = 0, size = 1;
  mpi().Comm_rank(mpi().COMM_WORLD, &rank);
  mpi().Comm_size(mpi().COMM_WORLD, &size);
  // Nothing else travels on MPI_COMM_WORLD (every communicator is a copy): its probes meet only other probes.
  PeerWatch watch(mpi().COMM_WORLD, rank, size, timeout_seconds);
  for (MPI_Comm* copy : copies) {
    MPI_Request request;
    int code = mpi().Comm_idup(mpi().COMM_WORLD, copy, &request);
    if (code != MPI_SUCCESS)
      return Outcome::failure(WPM_ERR_COMM,
                              "rank " + std::to_string(rank) + ": MPI_Comm_idup failed: " + mpi_error_text(code));
    if (Outcome done = watch.await(&request, "creating the communicator (MPI_Comm_idup)"); !done.ok()) return done;
    mpi().Comm_set_errhandler(*copy, mpi().ERRORS_RETURN);
  }
  return {};
}

void retire(std::unique_ptr<PeerWatch> watch, std::initializer_list<MPI_Comm*> communicators) {
  if (!MpiThread::instance().running()) {
    watch.release();  // finalized: cancelling its persistent receive now would be an error
    return;
  }
  // run() waits for the task, so the list outlives it.
  MpiThread::instance().run([&] {
    bool broken = watch->broken();
    watch.reset();
    if (!broken)
      for (MPI_Comm* comm : communicators) mpi().Comm_free(comm);
    return Outcome{};
  });
}

}  // namespace wpm::comm
