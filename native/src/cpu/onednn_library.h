// oneDNN, opened at run time: libdnnl.so.2 with dlopen, and the C API
// functions the bf16 matmul uses looked up with dlsym, so libworldpm.so loads
// where oneDNN is not installed (bf16 GEMMs then convert around OpenBLAS).
//
// Only oneDNN 2.x: the build compiles against its dnnl.h (types, constants and
// the signatures below); oneDNN 3 changed the C API these calls use (matmul
// descriptors, memory descriptors, output scales), so libdnnl.so.3 is not tried.
// Debian 12 ships 2.6 (package libdnnl2) as libdnnl.so.2.
//
// Debian's oneDNN runs on OpenMP and sizes its parallel regions by the calling
// thread's omp_set_num_threads; that function is looked up in libdnnl's own
// dependencies (libgomp, loaded with it), so libworldpm never needs libgomp.
//
// WORLDPM_ONEDNN_LIBRARY=PATH opens that file instead of libdnnl.so.2 (a
// oneDNN in another place, or a missing file to test the library without it);
// it is read on first use.
#pragma once

#include <oneapi/dnnl/dnnl.h>

#include <string>

namespace wpm {

struct OnednnLibrary {
  decltype(&::dnnl_version) version;
  decltype(&::dnnl_get_effective_cpu_isa) get_effective_cpu_isa;
  decltype(&::dnnl_engine_create) engine_create;
  decltype(&::dnnl_engine_destroy) engine_destroy;
  decltype(&::dnnl_stream_create) stream_create;
  decltype(&::dnnl_stream_wait) stream_wait;
  decltype(&::dnnl_stream_destroy) stream_destroy;
  decltype(&::dnnl_memory_desc_init_by_strides) memory_desc_init_by_strides;
  decltype(&::dnnl_memory_create) memory_create;
  decltype(&::dnnl_memory_set_data_handle) memory_set_data_handle;
  decltype(&::dnnl_memory_destroy) memory_destroy;
  decltype(&::dnnl_primitive_attr_create) primitive_attr_create;
  decltype(&::dnnl_primitive_attr_set_output_scales) primitive_attr_set_output_scales;
  decltype(&::dnnl_primitive_attr_set_post_ops) primitive_attr_set_post_ops;
  decltype(&::dnnl_primitive_attr_destroy) primitive_attr_destroy;
  decltype(&::dnnl_post_ops_create) post_ops_create;
  decltype(&::dnnl_post_ops_append_sum) post_ops_append_sum;
  decltype(&::dnnl_post_ops_destroy) post_ops_destroy;
  decltype(&::dnnl_matmul_desc_init) matmul_desc_init;
  decltype(&::dnnl_primitive_desc_create) primitive_desc_create;
  decltype(&::dnnl_primitive_desc_query) primitive_desc_query;
  decltype(&::dnnl_primitive_desc_destroy) primitive_desc_destroy;
  decltype(&::dnnl_primitive_create) primitive_create;
  decltype(&::dnnl_primitive_execute) primitive_execute;
  decltype(&::dnnl_primitive_destroy) primitive_destroy;
  // OpenMP's, when oneDNN runs on OpenMP; null otherwise (a TBB or sequential build).
  void (*omp_set_num_threads)(int);
};

// The loaded library (opened once per process), or null with the reason in *why
// ("libdnnl.so.2 not found; install libdnnl2 (Debian)", or a missing function).
const OnednnLibrary* onednn_library(std::string* why);

}  // namespace wpm
