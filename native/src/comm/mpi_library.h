// OpenMPI, opened at run time: libmpi.so.40 with dlopen, the MPI functions the
// communicators call looked up with dlsym, so libworldpm.so loads where MPI is
// not installed (the collectives and `worldpm info` then say it is missing).
//
// The build compiles against OpenMPI's mpi.h for the types, the constants and
// the signatures below. Its predefined handles (MPI_COMM_WORLD, MPI_FLOAT,
// MPI_SUM, ...) are not constants but the addresses of global objects in
// libmpi (ompi_mpi_comm_world, ...); using the macros would make libmpi a
// load-time dependency again, so they are looked up here too, and code in
// native/src/comm uses mpi().COMM_WORLD where MPI code writes MPI_COMM_WORLD.
// Constants that are plain values (MPI_SUCCESS, MPI_ANY_SOURCE, MPI_IN_PLACE,
// MPI_STATUS_IGNORE, MPI_THREAD_FUNNELED) stay as mpi.h defines them.
//
// libmpi is opened RTLD_GLOBAL: OpenMPI opens its transport plugins with
// dlopen and they expect libmpi's symbols to be global.
//
// WORLDPM_MPI_LIBRARY=PATH opens that file instead of libmpi.so.40 (an OpenMPI
// in another place, or a missing file to test the library without MPI); it is
// read on first use.
#pragma once

#include <mpi.h>

#include <string>

namespace wpm::comm {

// Members are named after the MPI function or handle without its MPI_ prefix,
// so a call reads as the MPI call it is: mpi().Comm_rank(mpi().COMM_WORLD, &rank).
struct MpiLibrary {
  decltype(&::MPI_Initialized) Initialized;
  decltype(&::MPI_Init_thread) Init_thread;
  decltype(&::MPI_Finalize) Finalize;
  decltype(&::MPI_Get_library_version) Get_library_version;
  decltype(&::MPI_Error_string) Error_string;
  decltype(&::MPI_Comm_idup) Comm_idup;
  decltype(&::MPI_Comm_free) Comm_free;
  decltype(&::MPI_Comm_rank) Comm_rank;
  decltype(&::MPI_Comm_size) Comm_size;
  decltype(&::MPI_Comm_set_errhandler) Comm_set_errhandler;
  decltype(&::MPI_Send) Send;
  decltype(&::MPI_Isend) Isend;
  decltype(&::MPI_Irecv) Irecv;
  decltype(&::MPI_Test) Test;
  decltype(&::MPI_Cancel) Cancel;
  decltype(&::MPI_Request_free) Request_free;
  decltype(&::MPI_Iallreduce) Iallreduce;
  decltype(&::MPI_Ibcast) Ibcast;
  decltype(&::MPI_Iallgather) Iallgather;
  decltype(&::MPI_Ireduce_scatter_block) Ireduce_scatter_block;
  decltype(&::MPI_Ibarrier) Ibarrier;

  MPI_Comm COMM_WORLD, COMM_NULL;
  MPI_Errhandler ERRORS_RETURN;
  MPI_Datatype BYTE, INT, INT32_T, UINT16_T, FLOAT;
  MPI_Op SUM;
  MPI_Request REQUEST_NULL;

  std::string file;  // what was opened: "libmpi.so.40" or WORLDPM_MPI_LIBRARY
};

// The loaded library (opened once per process, thread-safe), or null with the reason in *why
// ("libmpi.so.40 not found; install openmpi-bin (Debian)", or a missing function or handle).
const MpiLibrary* mpi_library(std::string* why);

// The loaded library, for code that runs once MPI has started (MpiThread::start succeeded, which
// needs mpi_library): the communicators, the peer watch, the MPI thread's loop.
const MpiLibrary& mpi();

}  // namespace wpm::comm
