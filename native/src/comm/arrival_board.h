// Which ranks of a launch reached MPI start-up, known without MPI.
//
// MPI_Init_thread waits for every rank of the launch, and while it waits no
// MPI call can ask who is missing. So before it starts MPI each rank leaves a
// file named after its rank, holding its host name, in a directory that the
// launcher makes for this launch on each host (PMIx's server directory, or
// OpenMPI's job session directory, which mpirun removes at the end). When
// start-up does not complete in time, a rank reads the files of its host: on
// a one-host launch the ranks without a file are the ones that never came;
// across hosts it can only count its own host's ranks. When every rank came,
// they are all inside MPI's start-up, which may just be slow on a busy host.
#pragma once

#include <string>

#include "launch_env.h"

namespace wpm::comm {

class ArrivalBoard {
 public:
  explicit ArrivalBoard(const LaunchEnv& env);

  // Records this rank's arrival; a no-op where the launcher gives no per-launch directory.
  void announce();
  // Whether every rank of the launch is known to have arrived (a one-host launch whose ranks all left their file).
  bool everyone_arrived() const;
  // For a start-up that timed out: the ranks that did not arrive, as "rank 1 (host vm)" or
  // "rank 1 (host vm), rank 3 (host vm)", else what can be said about them.
  std::string missing() const;
  // This process's host name ("" if unknown).
  const std::string& host() const { return host_; }

 private:
  bool arrived(int rank) const;
  // The ranks of a one-host launch without a file, as "rank 1 (host vm), ..." ("" when all arrived).
  std::string absent() const;

  LaunchEnv env_;
  std::string directory_;  // "" when the launcher gives none
  std::string host_;
};

}  // namespace wpm::comm
