// The access hooks of the emulated kernels' work counters. The kernels are compiled with GCC's
// ThreadSanitizer instrumentation (cmake/Emulator.cmake: -fsanitize=thread without the function entry and
// exit calls), which turns every load and store through a pointer into a call here with its address and
// width. No sanitizer runtime is linked: these definitions are the whole runtime, and all they do is hand
// a counted launch's accesses to the emulator (emu::detail::count_memory_access), which tells global,
// shared and private memory apart. Outside a counted launch each call is one relaxed load.
//
// ThreadSanitizer's form, not AddressSanitizer's: GCC's AddressSanitizer checks an address once per basic
// block, so an in-place update (x[i] = f(x[i]): a load then a store of the same address) would reach the
// counters as the load alone; ThreadSanitizer reports every access, reads and writes apart.
//
// The names and argument types are the instrumentation ABI GCC emits. An instrumented kernel that needs
// another one (atomics, which the emulator does not offer yet) fails the link of libworldpm.so.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "access_counters.h"
#include "emu.h"

namespace {

inline void access(const void* address, size_t bytes, bool write) {
  if (!emu::detail::g_launch_stats_wanted.load(std::memory_order_relaxed)) return;
  emu::detail::count_memory_access(address, bytes, write);
}

}  // namespace

#define WPM_EMU_ACCESS_HOOKS(bytes)                                                                       \
  extern "C" void __tsan_read##bytes(const void* p) { access(p, bytes, false); }                         \
  extern "C" void __tsan_write##bytes(const void* p) { access(p, bytes, true); }                         \
  extern "C" void __tsan_unaligned_read##bytes(const void* p) { access(p, bytes, false); }               \
  extern "C" void __tsan_unaligned_write##bytes(const void* p) { access(p, bytes, true); }

WPM_EMU_ACCESS_HOOKS(1)
WPM_EMU_ACCESS_HOOKS(2)
WPM_EMU_ACCESS_HOOKS(4)
WPM_EMU_ACCESS_HOOKS(8)
WPM_EMU_ACCESS_HOOKS(16)
#undef WPM_EMU_ACCESS_HOOKS

// Accesses of other widths (a copy of a struct, a memcpy the compiler kept).
extern "C" void __tsan_read_range(const void* p, size_t bytes) { access(p, bytes, false); }
extern "C" void __tsan_write_range(const void* p, size_t bytes) { access(p, bytes, true); }
// Called by every instrumented file's constructor: there is nothing to set up.
extern "C" void __tsan_init() {}
