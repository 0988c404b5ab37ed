#include "launch_env.h"

#include <cstdlib>
#include <initializer_list>

namespace wpm::comm {
namespace {

// The first of `names` that is set to a non-negative integer, else -1.
int first_int(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    char* end = nullptr;
    long parsed = std::strtol(value, &end, 10);
    if (*end == '\0' && parsed >= 0 && parsed < (1L << 30)) return static_cast<int>(parsed);
  }
  return -1;
}

}  // namespace

LaunchEnv read_launch_env() {
  LaunchEnv env;
  int size = first_int({"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "SLURM_NTASKS"});
  int rank = first_int({"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"});
  int local = first_int({"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"});
  if (size > 0) env.world_size = size;
  if (rank >= 0 && rank < env.world_size) env.rank = rank;
  int local_size = first_int({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"});
  if (local >= 0) env.local_rank = local;
  if (local_size > 0) env.local_size = local_size;
  env.launched = env.world_size > 1;
  return env;
}

}  // namespace wpm::comm
