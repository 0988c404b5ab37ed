#include "mpi_library.h"

#include <dlfcn.h>

#include "../runtime_library.h"

namespace wpm::comm {
namespace {

using Loaded = LoadedLibrary<MpiLibrary>;

Loaded load() {
  Loaded loaded;
  MpiLibrary& l = loaded.library;
  // RTLD_GLOBAL: OpenMPI's own plugins, which it opens later, resolve their references to libmpi in the global scope.
  OpenedLibrary opened =
      open_runtime_library("WORLDPM_MPI_LIBRARY", "libmpi.so.40", RTLD_NOW | RTLD_GLOBAL, "install openmpi-bin (Debian)");
  l.file = opened.file;
  if (opened.handle == nullptr) {
    loaded.problem = opened.problem;
    return loaded;
  }
  SymbolBinder bind(opened.handle, l.file, "(not OpenMPI 4?)", &loaded.problem);
  bind("MPI_Initialized", &l.Initialized);
  bind("MPI_Init_thread", &l.Init_thread);
  bind("MPI_Finalize", &l.Finalize);
  bind("MPI_Get_library_version", &l.Get_library_version);
  bind("MPI_Error_string", &l.Error_string);
  bind("MPI_Comm_idup", &l.Comm_idup);
  bind("MPI_Comm_free", &l.Comm_free);
  bind("MPI_Comm_rank", &l.Comm_rank);
  bind("MPI_Comm_size", &l.Comm_size);
  bind("MPI_Comm_set_errhandler", &l.Comm_set_errhandler);
  bind("MPI_Send", &l.Send);
  bind("MPI_Isend", &l.Isend);
  bind("MPI_Irecv", &l.Irecv);
  bind("MPI_Test", &l.Test);
  bind("MPI_Cancel", &l.Cancel);
  bind("MPI_Request_free", &l.Request_free);
  bind("MPI_Iallreduce", &l.Iallreduce);
  bind("MPI_Ibcast", &l.Ibcast);
  bind("MPI_Iallgather", &l.Iallgather);
  bind("MPI_Ireduce_scatter_block", &l.Ireduce_scatter_block);
  bind("MPI_Ibarrier", &l.Ibarrier);
  // The objects behind OpenMPI's handle macros (mpi.h: OMPI_PREDEFINED_GLOBAL).
  bind("ompi_mpi_comm_world", &l.COMM_WORLD);
  bind("ompi_mpi_comm_null", &l.COMM_NULL);
  bind("ompi_mpi_errors_return", &l.ERRORS_RETURN);
  bind("ompi_mpi_byte", &l.BYTE);
  bind("ompi_mpi_int", &l.INT);
  bind("ompi_mpi_int32_t", &l.INT32_T);
  bind("ompi_mpi_uint16_t", &l.UINT16_T);
  bind("ompi_mpi_float", &l.FLOAT);
  bind("ompi_mpi_op_sum", &l.SUM);
  bind("ompi_request_null", &l.REQUEST_NULL);
  // A library that lacks any of them stays open (OpenMPI cannot be unloaded safely once its
  // constructors ran); nothing of it is used.
  return loaded;  // the handle stays open for the life of the process
}

const Loaded& loaded() {
  static const Loaded instance = load();
  return instance;
}

}  // namespace

const MpiLibrary* mpi_library(std::string* why) { return loaded().or_why(why); }

const MpiLibrary& mpi() { return loaded().library; }

}  // namespace wpm::comm
