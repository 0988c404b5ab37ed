#include "nccl_library.h"

#include <dlfcn.h>

#include <mutex>

namespace wpm::comm {
namespace {

struct Loaded {
  NcclLibrary library{};
  std::string problem;  // empty when loaded
};

template <class Fn>
bool bind(void* handle, const char* name, Fn* slot, std::string* problem) {
  *slot = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*slot == nullptr && problem->empty()) *problem = std::string("libnccl.so.2 has no ") + name;
  return *slot != nullptr;
}

Loaded load() {
  Loaded loaded;
  void* handle = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = dlerror();
    loaded.problem = error != nullptr ? error : "libnccl.so.2 could not be opened";
    return loaded;
  }
  NcclLibrary& l = loaded.library;
  std::string* p = &loaded.problem;
  bind(handle, "ncclGetVersion", &l.get_version, p);
  bind(handle, "ncclGetUniqueId", &l.get_unique_id, p);
  bind(handle, "ncclCommInitRank", &l.comm_init_rank, p);
  bind(handle, "ncclCommDestroy", &l.comm_destroy, p);
  bind(handle, "ncclCommAbort", &l.comm_abort, p);
  bind(handle, "ncclCommGetAsyncError", &l.comm_get_async_error, p);
  bind(handle, "ncclGetErrorString", &l.get_error_string, p);
  bind(handle, "ncclAllReduce", &l.all_reduce, p);
  bind(handle, "ncclBroadcast", &l.broadcast, p);
  bind(handle, "ncclAllGather", &l.all_gather, p);
  bind(handle, "ncclReduceScatter", &l.reduce_scatter, p);
  if (loaded.problem.empty()) {
    l.get_version(&l.version);
    // ncclAvg (the mean) arrived in 2.10.
    if (l.version < 21000) loaded.problem = "NCCL " + std::to_string(l.version) + " is older than 2.10";
  }
  return loaded;  // the handle stays open for the life of the process
}

const Loaded& loaded() {
  static const Loaded instance = load();
  return instance;
}

}  // namespace

const NcclLibrary* nccl_library(std::string* why) {
  const Loaded& l = loaded();
  if (!l.problem.empty()) {
    if (why != nullptr) *why = l.problem;
    return nullptr;
  }
  return &l.library;
}

std::string nccl_description() {
  std::string why;
  const NcclLibrary* library = nccl_library(&why);
  if (library == nullptr) return "unavailable: " + why;
  const int v = library->version;
  return "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

}  // namespace wpm::comm
