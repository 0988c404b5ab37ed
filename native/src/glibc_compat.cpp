// Stand-ins for two glibc functions newer than 2.34 that the statically linked
// C++ runtime references, so libworldpm.so loads on glibc 2.34 (the oldest
// glibc it supports; scripts/check_load_dependencies.sh holds it there).
// The link routes those references here with -Wl,--wrap=NAME.
//
// _dl_find_object (glibc 2.35): GCC 12's unwinder (libgcc_eh.a) finds the
// unwind tables of the code an exception passes through with it. Where glibc
// has it, it is called; elsewhere the same answer comes from dl_iterate_phdr,
// the search the unwinder itself made before 2.35: the loaded object whose
// PT_LOAD segments contain the address, and its PT_GNU_EH_FRAME segment.
//
// arc4random (glibc 2.36): referenced by libstdc++'s std::random_device, which
// the library does not use; answered from getrandom(2) all the same.
#include "glibc_compat.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace wpm {
namespace {

using FindObject = int (*)(void*, struct dl_find_object*);

struct Search {
  uintptr_t address;
  struct dl_find_object* result;
  bool found;
};

int visit(struct dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  uintptr_t low = UINTPTR_MAX, high = 0;
  bool inside = false;
  const ElfW(Phdr)* eh_frame = nullptr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type == PT_LOAD) {
      const uintptr_t start = info->dlpi_addr + segment.p_vaddr, end = start + segment.p_memsz;
      low = std::min(low, start);
      high = std::max(high, end);
      inside = inside || (search->address >= start && search->address < end);
    } else if (segment.p_type == PT_GNU_EH_FRAME) {
      eh_frame = &segment;
    }
  }
  if (!inside) return 0;  // go on with the next object
  *search->result = {};
  search->result->dlfo_map_start = reinterpret_cast<void*>(low);
  search->result->dlfo_map_end = reinterpret_cast<void*>(high);
  search->result->dlfo_eh_frame =
      eh_frame != nullptr ? reinterpret_cast<void*>(info->dlpi_addr + eh_frame->p_vaddr) : nullptr;
  search->found = true;
  return 1;
}

// glibc's own _dl_find_object when this glibc has one (>= 2.35); looked up once.
FindObject glibc_find_object() {
  static std::atomic<FindObject> found{nullptr};
  static std::atomic<bool> looked{false};
  if (!looked.load(std::memory_order_acquire)) {
    found.store(reinterpret_cast<FindObject>(dlsym(RTLD_DEFAULT, "_dl_find_object")), std::memory_order_relaxed);
    looked.store(true, std::memory_order_release);
  }
  return found.load(std::memory_order_relaxed);
}

}  // namespace

int find_object_by_program_headers(void* address, struct dl_find_object* result) {
  Search search{reinterpret_cast<uintptr_t>(address), result, false};
  dl_iterate_phdr(visit, &search);
  return search.found ? 0 : -1;
}

}  // namespace wpm

extern "C" {

int __wrap__dl_find_object(void* address, struct dl_find_object* result) {
  if (wpm::FindObject find = wpm::glibc_find_object()) return find(address, result);
  return wpm::find_object_by_program_headers(address, result);
}

uint32_t __wrap_arc4random(void) {
  uint32_t value = 0;
  // getrandom blocks only before the kernel's pool is first seeded, and returns at most 256 bytes unsplit.
  while (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
  }
  return value;
}

}  // extern "C"
