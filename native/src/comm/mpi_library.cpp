#include "mpi_library.h"

#include <dlfcn.h>

#include <cstdlib>

namespace wpm::comm {
namespace {

constexpr const char* kDefaultName = "libmpi.so.40";
constexpr const char* kInstallHint = "install openmpi-bin (Debian)";

struct Loaded {
  MpiLibrary library{};
  std::string problem;  // empty when loaded
};

class Binder {
 public:
  Binder(void* handle, const std::string& file, std::string* problem)
      : handle_(handle), file_(file), problem_(problem) {}

  template <class Fn>
  void function(const char* name, Fn* slot) {
    *slot = reinterpret_cast<Fn>(lookup(name));
  }
  // A predefined handle: the address of libmpi's global object of that name.
  template <class Handle>
  void handle(const char* name, Handle* slot) {
    *slot = reinterpret_cast<Handle>(lookup(name));
  }

 private:
  void* lookup(const char* name) {
    void* address = dlsym(handle_, name);
    if (address == nullptr && problem_->empty()) *problem_ = file_ + " has no " + name + " (not OpenMPI 4?)";
    return address;
  }

  void* handle_;
  const std::string& file_;
  std::string* problem_;
};

Loaded load() {
  Loaded loaded;
  const char* override_path = std::getenv("WORLDPM_MPI_LIBRARY");
  const bool overridden = override_path != nullptr && *override_path != '\0';
  MpiLibrary& l = loaded.library;
  l.file = overridden ? override_path : kDefaultName;
  void* handle = dlopen(l.file.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    // The reason goes into fixed-size info fields (wpm_comm_info, wpm_backend_info): keep it short.
    const char* raw = dlerror();
    std::string error = raw != nullptr ? raw : std::string(l.file) + " could not be opened";
    const std::string verbose = ": cannot open shared object file: No such file or directory";
    if (size_t at = error.find(verbose); at != std::string::npos) error.replace(at, verbose.size(), " not found");
    loaded.problem = error + "; " + kInstallHint;
    return loaded;
  }
  Binder bind(handle, l.file, &loaded.problem);
  bind.function("MPI_Initialized", &l.Initialized);
  bind.function("MPI_Init_thread", &l.Init_thread);
  bind.function("MPI_Finalize", &l.Finalize);
  bind.function("MPI_Get_library_version", &l.Get_library_version);
  bind.function("MPI_Error_string", &l.Error_string);
  bind.function("MPI_Comm_dup", &l.Comm_dup);
  bind.function("MPI_Comm_free", &l.Comm_free);
  bind.function("MPI_Comm_rank", &l.Comm_rank);
  bind.function("MPI_Comm_size", &l.Comm_size);
  bind.function("MPI_Comm_set_errhandler", &l.Comm_set_errhandler);
  bind.function("MPI_Send", &l.Send);
  bind.function("MPI_Isend", &l.Isend);
  bind.function("MPI_Irecv", &l.Irecv);
  bind.function("MPI_Test", &l.Test);
  bind.function("MPI_Cancel", &l.Cancel);
  bind.function("MPI_Request_free", &l.Request_free);
  bind.function("MPI_Iallreduce", &l.Iallreduce);
  bind.function("MPI_Ibcast", &l.Ibcast);
  bind.function("MPI_Iallgather", &l.Iallgather);
  bind.function("MPI_Ireduce_scatter_block", &l.Ireduce_scatter_block);
  bind.function("MPI_Ibarrier", &l.Ibarrier);
  // The objects behind OpenMPI's handle macros (mpi.h: OMPI_PREDEFINED_GLOBAL).
  bind.handle("ompi_mpi_comm_world", &l.COMM_WORLD);
  bind.handle("ompi_mpi_comm_null", &l.COMM_NULL);
  bind.handle("ompi_mpi_errors_return", &l.ERRORS_RETURN);
  bind.handle("ompi_mpi_byte", &l.BYTE);
  bind.handle("ompi_mpi_int", &l.INT);
  bind.handle("ompi_mpi_int32_t", &l.INT32_T);
  bind.handle("ompi_mpi_uint16_t", &l.UINT16_T);
  bind.handle("ompi_mpi_float", &l.FLOAT);
  bind.handle("ompi_mpi_op_sum", &l.SUM);
  bind.handle("ompi_request_null", &l.REQUEST_NULL);
  // A library that lacks any of them stays open (OpenMPI cannot be unloaded safely once its
  // constructors ran); nothing of it is used.
  return loaded;  // the handle stays open for the life of the process
}

const Loaded& loaded() {
  static const Loaded instance = load();
  return instance;
}

}  // namespace

const MpiLibrary* mpi_library(std::string* why) {
  const Loaded& l = loaded();
  if (!l.problem.empty()) {
    if (why != nullptr) *why = l.problem;
    return nullptr;
  }
  return &l.library;
}

const MpiLibrary& mpi() { return loaded().library; }

}  // namespace wpm::comm
