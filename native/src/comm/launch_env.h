// Where this process sits in an mpirun launch, read from the launcher's
// environment (OpenMPI's OMPI_COMM_WORLD_*, else PMIx / PMI / MPICH / Slurm
// variables) without starting MPI: the trainer needs the local rank to pick
// its GPU before it creates a context, and `worldpm info` reports it.
#pragma once

namespace wpm::comm {

struct LaunchEnv {
  bool launched = false;  // started by a launcher with a world of more than one rank
  int world_size = 1;
  int rank = 0;
  int local_rank = 0;
  int local_size = 1;
};

LaunchEnv read_launch_env();

}  // namespace wpm::comm
