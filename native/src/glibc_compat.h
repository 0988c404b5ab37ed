// glibc compatibility for the statically linked C++ runtime (glibc_compat.cpp
// says why): the dl_iterate_phdr answer to _dl_find_object, exposed so a test
// can compare it with glibc's own.
#pragma once

#include <dlfcn.h>

namespace wpm {

// 0 and *result filled (map start and end, eh_frame; no link map) when address lies in a loaded object, else -1.
int find_object_by_program_headers(void* address, struct dl_find_object* result);

}  // namespace wpm
