#include "nccl_library.h"

#include <dlfcn.h>

#include "../runtime_library.h"


namespace wpm::comm {
namespace {

using Loaded = LoadedLibrary<NcclLibrary>;

Loaded load() {
  Loaded loaded;
  OpenedLibrary opened = open_runtime_library(nullptr, "libnccl.so.2", RTLD_NOW | RTLD_LOCAL,
                                              "install NCCL 2.10 or newer (libnccl2)");
  if (opened.handle == nullptr) {
    loaded.problem = opened.problem;
    return loaded;
  }
  SymbolBinder bind(opened.handle, opened.file, "", &loaded.problem);
  NcclLibrary& l = loaded.library;
  bind("ncclGetVersion", &l.get_version);
  bind("ncclGetUniqueId", &l.get_unique_id);
  bind("ncclCommInitRank", &l.comm_init_rank);
  bind("ncclCommDestroy", &l.comm_destroy);
  bind("ncclCommAbort", &l.comm_abort);
  bind("ncclCommGetAsyncError", &l.comm_get_async_error);
  bind("ncclGetErrorString", &l.get_error_string);
  bind("ncclAllReduce", &l.all_reduce);
  bind("ncclBroadcast", &l.broadcast);
  bind("ncclAllGather", &l.all_gather);
  bind("ncclReduceScatter", &l.reduce_scatter);
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

const NcclLibrary* nccl_library(std::string* why) { return loaded().or_why(why); }

std::string nccl_description() {
  std::string why;
  const NcclLibrary* library = nccl_library(&why);
  if (library == nullptr) return "unavailable: " + why;
  const int v = library->version;
  return "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

}  // namespace wpm::comm
