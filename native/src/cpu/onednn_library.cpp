#include "onednn_library.h"

#include <dlfcn.h>

#include "../runtime_library.h"

namespace wpm {
namespace {

using Loaded = LoadedLibrary<OnednnLibrary>;

Loaded load() {
  Loaded loaded;
  // RTLD_LOCAL: nothing else in the process needs oneDNN's symbols.
  OpenedLibrary opened =
      open_runtime_library("WORLDPM_ONEDNN_LIBRARY", "libdnnl.so.2", RTLD_NOW | RTLD_LOCAL, "install libdnnl2 (Debian)");
  if (opened.handle == nullptr) {
    loaded.problem = opened.problem;
    return loaded;
  }
  void* handle = opened.handle;
  const std::string& file = opened.file;
  OnednnLibrary& l = loaded.library;
  SymbolBinder bind(handle, file, "(not oneDNN 2.x?)", &loaded.problem);
  bind("dnnl_version", &l.version);
  bind("dnnl_get_effective_cpu_isa", &l.get_effective_cpu_isa);
  bind("dnnl_engine_create", &l.engine_create);
  bind("dnnl_engine_destroy", &l.engine_destroy);
  bind("dnnl_stream_create", &l.stream_create);
  bind("dnnl_stream_wait", &l.stream_wait);
  bind("dnnl_stream_destroy", &l.stream_destroy);
  bind("dnnl_memory_desc_init_by_strides", &l.memory_desc_init_by_strides);
  bind("dnnl_memory_create", &l.memory_create);
  bind("dnnl_memory_set_data_handle", &l.memory_set_data_handle);
  bind("dnnl_memory_destroy", &l.memory_destroy);
  bind("dnnl_primitive_attr_create", &l.primitive_attr_create);
  bind("dnnl_primitive_attr_set_output_scales", &l.primitive_attr_set_output_scales);
  bind("dnnl_primitive_attr_set_post_ops", &l.primitive_attr_set_post_ops);
  bind("dnnl_primitive_attr_destroy", &l.primitive_attr_destroy);
  bind("dnnl_post_ops_create", &l.post_ops_create);
  bind("dnnl_post_ops_append_sum", &l.post_ops_append_sum);
  bind("dnnl_post_ops_destroy", &l.post_ops_destroy);
  bind("dnnl_matmul_desc_init", &l.matmul_desc_init);
  bind("dnnl_primitive_desc_create", &l.primitive_desc_create);
  bind("dnnl_primitive_desc_query", &l.primitive_desc_query);
  bind("dnnl_primitive_desc_destroy", &l.primitive_desc_destroy);
  bind("dnnl_primitive_create", &l.primitive_create);
  bind("dnnl_primitive_execute", &l.primitive_execute);
  bind("dnnl_primitive_destroy", &l.primitive_destroy);
  if (loaded.problem.empty() && l.version()->major != 2)
    loaded.problem = file + " is oneDNN " + std::to_string(l.version()->major) +
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

const OnednnLibrary* onednn_library(std::string* why) { return loaded().or_why(why); }

}  // namespace wpm
