#include "onednn_library.h"

#include <dlfcn.h>

#include <cstdlib>

namespace wpm {
namespace {

constexpr const char* kDefaultName = "libdnnl.so.2";
constexpr const char* kInstallHint = "install libdnnl2 (Debian)";

struct Loaded {
  OnednnLibrary library{};
  std::string problem;  // empty when loaded
};

template <class Fn>
void bind(void* handle, const char* file, const char* name, Fn* slot, std::string* problem) {
  *slot = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*slot == nullptr && problem->empty()) *problem = std::string(file) + " has no " + name + " (not oneDNN 2.x?)";
}

Loaded load() {
  Loaded loaded;
  const char* override_path = std::getenv("WORLDPM_ONEDNN_LIBRARY");
  const char* file = override_path != nullptr && *override_path != '\0' ? override_path : kDefaultName;
  // RTLD_LOCAL: nothing else in the process needs oneDNN's symbols.
  void* handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    // The reason goes into fixed-size info fields (wpm_comm_info, wpm_backend_info): keep it short.
    const char* raw = dlerror();
    std::string error = raw != nullptr ? raw : std::string(file) + " could not be opened";
    const std::string verbose = ": cannot open shared object file: No such file or directory";
    if (size_t at = error.find(verbose); at != std::string::npos) error.replace(at, verbose.size(), " not found");
    loaded.problem = error + "; " + kInstallHint;
    return loaded;
  }
  OnednnLibrary& l = loaded.library;
  std::string* p = &loaded.problem;
  bind(handle, file, "dnnl_version", &l.version, p);
  bind(handle, file, "dnnl_get_effective_cpu_isa", &l.get_effective_cpu_isa, p);
  bind(handle, file, "dnnl_engine_create", &l.engine_create, p);
  bind(handle, file, "dnnl_engine_destroy", &l.engine_destroy, p);
  bind(handle, file, "dnnl_stream_create", &l.stream_create, p);
  bind(handle, file, "dnnl_stream_wait", &l.stream_wait, p);
  bind(handle, file, "dnnl_stream_destroy", &l.stream_destroy, p);
  bind(handle, file, "dnnl_memory_desc_init_by_strides", &l.memory_desc_init_by_strides, p);
  bind(handle, file, "dnnl_memory_create", &l.memory_create, p);
  bind(handle, file, "dnnl_memory_set_data_handle", &l.memory_set_data_handle, p);
  bind(handle, file, "dnnl_memory_destroy", &l.memory_destroy, p);
  bind(handle, file, "dnnl_primitive_attr_create", &l.primitive_attr_create, p);
  bind(handle, file, "dnnl_primitive_attr_set_output_scales", &l.primitive_attr_set_output_scales, p);
  bind(handle, file, "dnnl_primitive_attr_set_post_ops", &l.primitive_attr_set_post_ops, p);
  bind(handle, file, "dnnl_primitive_attr_destroy", &l.primitive_attr_destroy, p);
  bind(handle, file, "dnnl_post_ops_create", &l.post_ops_create, p);
  bind(handle, file, "dnnl_post_ops_append_sum", &l.post_ops_append_sum, p);
  bind(handle, file, "dnnl_post_ops_destroy", &l.post_ops_destroy, p);
  bind(handle, file, "dnnl_matmul_desc_init", &l.matmul_desc_init, p);
  bind(handle, file, "dnnl_primitive_desc_create", &l.primitive_desc_create, p);
  bind(handle, file, "dnnl_primitive_desc_query", &l.primitive_desc_query, p);
  bind(handle, file, "dnnl_primitive_desc_destroy", &l.primitive_desc_destroy, p);
  bind(handle, file, "dnnl_primitive_create", &l.primitive_create, p);
  bind(handle, file, "dnnl_primitive_execute", &l.primitive_execute, p);
  bind(handle, file, "dnnl_primitive_destroy", &l.primitive_destroy, p);
  if (loaded.problem.empty() && l.version()->major != 2)
    loaded.problem = std::string(file) + " is oneDNN " + std::to_string(l.version()->major) +
                     ".x; this build uses the oneDNN 2.x C API";
  // dlsym on the handle searches libdnnl and the libraries it loaded: libgomp when it runs on OpenMP.
  l.omp_set_num_threads = reinterpret_cast<void (*)(int)>(dlsym(handle, "omp_set_num_threads"));
  if (!loaded.problem.empty()) dlclose(handle);
  return loaded;  // a loaded handle stays open for the life of the process
}

const Loaded& loaded() {
  static const Loaded instance = load();
  return instance;
}

}  // namespace

const OnednnLibrary* onednn_library(std::string* why) {
  const Loaded& l = loaded();
  if (!l.problem.empty()) {
    if (why != nullptr) *why = l.problem;
    return nullptr;
  }
  return &l.library;
}

}  // namespace wpm
