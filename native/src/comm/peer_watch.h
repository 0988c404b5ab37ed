// Bounded waiting for MPI requests, and naming the ranks that stopped
// answering. Runs on the MPI thread only.
//
// MPI itself waits forever for a rank that died or hangs. So every request is
// waited for by polling, with a deadline (the communicator's timeout). While
// it polls, a rank also answers liveness probes: a persistent receive on a
// separate control communicator takes "ping" messages from any rank and sends
// a "pong" back. When a deadline passes, the waiting rank pings every other
// rank and waits a short while for the pongs: a rank that is waiting in a
// collective answers; one that died, is stopped, or is busy elsewhere past the
// deadline does not, and is named in the error. If every rank answers, they
// are alive but did not all enter the same collective (a different call order
// or count), and the message says that instead.
#pragma once

#include "mpi_library.h"

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>

#include "outcome.h"

namespace wpm::comm {

class PeerWatch {
 public:
  // control: a communicator of its own (a dup of the data one), so pings never match data messages.
  PeerWatch(MPI_Comm control, int rank, int size, double timeout_seconds);
  ~PeerWatch();
  PeerWatch(const PeerWatch&) = delete;
  PeerWatch& operator=(const PeerWatch&) = delete;

  // One look at a pending operation: done, still running, or failed (error set).
  struct Poll {
    bool done = false;
    std::string error;
  };
  // Polls until the operation is done (answering probes meanwhile) or the
  // timeout passes; what names the collective in messages.
  Outcome await(const std::function<Poll()>& poll, const std::string& what);
  Outcome await(MPI_Request* request, const std::string& what);
  // Whether a failure was seen: the communicator stays broken. Read on the caller's thread while the MPI thread may
  // be recording a failure (a cpu all-reduce runs beside the caller), hence the lock and the copy.
  bool broken() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return !broken_message_.empty();
  }
  std::string broken_message() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return broken_message_;
  }
  double timeout_seconds() const { return timeout_seconds_; }

 private:
  void serve_probes();
  // After a timeout: the ranks that did not answer a probe, as "rank 1, rank 3" ("" if all did).
  std::string silent_ranks();
  Outcome fail(const std::string& message);

  MPI_Comm control_;
  int rank_, size_;
  double timeout_seconds_;
  int ping_payload_ = 0;
  MPI_Request ping_request_ = mpi().REQUEST_NULL;
  mutable std::mutex mutex_;
  std::string broken_message_;  // guarded by mutex_
};

std::string mpi_error_text(int code);

// On the MPI thread: MPI_COMM_WORLD copied into each of `copies` (errors returned, not aborting). Copying is
// collective, so it is bounded like a collective: a rank that does not make the same copies within the timeout is
// named. On failure the copies are unusable and left alone (freeing one could wait for that rank).
Outcome duplicate_world(std::initializer_list<MPI_Comm*> copies, double timeout_seconds);

// A communicator's teardown, from any thread: on the MPI thread, drops the watch and frees the communicators,
// unless the watch saw a failure (then requests may never complete and freeing could wait on them: they leak).
// Once MPI is finalized it only lets the watch go without touching MPI (MPI freed its requests already).
void retire(std::unique_ptr<PeerWatch> watch, std::initializer_list<MPI_Comm*> communicators);

}  // namespace wpm::comm
