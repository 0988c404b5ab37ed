// The access hooks of the emulated kernels' work counters. The kernels are compiled with GCC's
// kernel AddressSanitizer instrumentation in its callback form (cmake/Emulator.cmake:
// -fsanitize=kernel-address with every check a call, no stack or global redzones), which turns every load
// and store through a pointer into a call here with its address and width. No sanitizer runtime is
// linked: these definitions are the whole runtime, and all they do is hand a counted launch's accesses
// to the emulator (emu::detail::count_memory_access), which tells global, shared and private memory
// apart. Outside a counted launch each call is one relaxed load.
//
// The names and argument types are the sanitizer ABI GCC emits (one address, or an address and a size).
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "access_counters.h"
#include "emu.h"

namespace {

inline void access(uintptr_t address, size_t bytes, bool write) {
  if (!emu::detail::g_launch_stats_wanted.load(std::memory_order_relaxed)) return;
  emu::detail::count_memory_access(reinterpret_cast<const void*>(address), bytes, write);
}

}  // namespace

#define WPM_EMU_ACCESS_HOOKS(bytes)                                                          \
  extern "C" void __asan_load##bytes##_noabort(uintptr_t p) { access(p, bytes, false); }  \
  extern "C" void __asan_store##bytes##_noabort(uintptr_t p) { access(p, bytes, true); }

WPM_EMU_ACCESS_HOOKS(1)
WPM_EMU_ACCESS_HOOKS(2)
WPM_EMU_ACCESS_HOOKS(4)
WPM_EMU_ACCESS_HOOKS(8)
WPM_EMU_ACCESS_HOOKS(16)
#undef WPM_EMU_ACCESS_HOOKS

extern "C" void __asan_loadN_noabort(uintptr_t p, size_t bytes) { access(p, bytes, false); }
extern "C" void __asan_storeN_noabort(uintptr_t p, size_t bytes) { access(p, bytes, true); }
// Called before a noreturn call (a kernel error unwinding the fiber): there are no redzones to clear.
extern "C" void __asan_handle_no_return() {}
// Around a file's dynamic initialisers (the emulator tests' files, compiled with the kernels' flags): there is
// no initialisation order to check.
extern "C" void __asan_before_dynamic_init(const char*) {}
extern "C" void __asan_after_dynamic_init() {}
