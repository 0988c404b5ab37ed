// Emulated device memory: every allocation sits between two guard zones of
// kGuard bytes filled with a position-dependent pattern (so a stray write of
// any single value is seen) that reads as NaN through every aligned f32, f16
// or bf16 (so an out-of-bounds read shows in the result), and its contents
// start poisoned (0xFF: NaN in f32/f16/bf16) as cudaMalloc memory is never zeroed. check_guards() runs
// after every launch and names each allocation whose guards changed, with the
// distance of the farthest damaged byte. In the AddressSanitizer build the
// guards (and the padding up to the next kGuard boundary) are also poisoned,
// so a read past either end is reported where it happens; freed allocations
// are ASan's own (poisoned and quarantined by free).
#include <sanitizer/asan_interface.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

#include "emu.h"
#include "device_range.h"

namespace emu {

namespace {

constexpr size_t kGuard = 256;  // also the alignment of the returned pointer, as cudaMalloc's

struct Allocation {
  size_t bytes;
  std::string name;
};

struct Registry {
  std::mutex mutex;
  std::map<unsigned char*, Allocation> live;  // keyed by the user pointer
};

Registry& registry() {
  static Registry r;
  return r;
}

// By address, since the zone after an allocation of odd size starts at an odd address.
// Little-endian, the byte at an odd address is the high byte of an aligned 16-bit
// value: 0x7F or 0xFF sets the f16 exponent to all ones with a nonzero mantissa, and
// the bf16 (and f32) exponent's high seven bits. An even byte in 0x81..0xFF completes
// the bf16/f32 exponent and makes the bf16 and f32 mantissas nonzero: NaN in all three.
unsigned char pattern(const unsigned char* at) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(at);
  if (a & 1) return (a >> 1 & 1) ? 0x7F : 0xFF;
  return static_cast<unsigned char>(0x81 + ((a >> 1) * 0x3b + 0x5a) % 0x7F);
}

size_t total_bytes(size_t bytes) { return (kGuard + bytes + kGuard + kGuard - 1) / kGuard * kGuard; }

// Everything of the block around [user, user + bytes): ASan may (un)poison it (no-ops in other builds).
void poison_guards(unsigned char* user, size_t bytes) {
  ASAN_POISON_MEMORY_REGION(user - kGuard, kGuard);
  ASAN_POISON_MEMORY_REGION(user + bytes, total_bytes(bytes) - kGuard - bytes);
}
void unpoison_guards(unsigned char* user, size_t bytes) {
  ASAN_UNPOISON_MEMORY_REGION(user - kGuard, kGuard);
  ASAN_UNPOISON_MEMORY_REGION(user + bytes, total_bytes(bytes) - kGuard - bytes);
}

void arm(unsigned char* user, size_t bytes) {
  for (size_t i = 0; i < kGuard; ++i) {
    user[-1 - ptrdiff_t(i)] = pattern(user - 1 - i);
    user[bytes + i] = pattern(user + bytes + i);
  }
  poison_guards(user, bytes);
}

// The live allocation holding [p, p + bytes), or live.end(); the caller holds the mutex.
std::map<unsigned char*, Allocation>::iterator find_live(Registry& r, const void* ptr, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(ptr);
  // The allocation that could hold p is the last one starting at or before it.
  auto it = r.live.upper_bound(const_cast<unsigned char*>(p));
  if (it == r.live.begin()) return r.live.end();
  --it;
  const size_t into = static_cast<size_t>(p - it->first);
  if (into <= it->second.bytes && bytes <= it->second.bytes - into) return it;
  return r.live.end();
}

}  // namespace

void* device_alloc(size_t bytes, const char* name) {
  auto* base = static_cast<unsigned char*>(std::aligned_alloc(kGuard, total_bytes(bytes)));
  if (!base) throw std::bad_alloc();
  unsigned char* user = base + kGuard;
  std::memset(user, 0xFF, bytes);
  arm(user, bytes);
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.live.emplace(user, Allocation{bytes, name ? name : ""});
  return user;
}

void device_free(void* ptr) {
  if (!ptr) return;
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.live.find(static_cast<unsigned char*>(ptr));
  if (it == r.live.end()) throw std::invalid_argument("emu::device_free: pointer was not returned by device_alloc");
  unpoison_guards(it->first, it->second.bytes);
  std::free(it->first - kGuard);
  r.live.erase(it);
}

bool device_range_live(const void* ptr, size_t bytes) { return device_allocation_of(ptr, bytes).base != nullptr; }

DeviceRange device_allocation_of(const void* ptr, size_t bytes) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const auto it = find_live(r, ptr, bytes);
  if (it == r.live.end()) return DeviceRange{};
  return DeviceRange{it->first, it->second.bytes};
}

std::string check_guards() {
  std::string report;
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto& [user, a] : r.live) {
    size_t before = 0, after = 0;  // distance of the farthest damaged byte on each side
    unpoison_guards(user, a.bytes);
    for (size_t i = 0; i < kGuard; ++i) {
      if (user[-1 - ptrdiff_t(i)] != pattern(user - 1 - i)) before = i + 1;
      if (user[a.bytes + i] != pattern(user + a.bytes + i)) after = i + 1;
    }
    if (!before && !after) {
      poison_guards(user, a.bytes);
      continue;
    }
    const std::string label = "allocation '" + (a.name.empty() ? std::string("(unnamed)") : a.name) + "' (" +
                              std::to_string(a.bytes) + " bytes)";
    if (after)
      report += (report.empty() ? "" : "\n") + std::string("guard bytes overrun: ") + label + " was written " +
                std::to_string(after) + " byte(s) past its end";
    if (before)
      report += (report.empty() ? "" : "\n") + std::string("guard bytes overrun: ") + label + " was written " +
                std::to_string(before) + " byte(s) before its start";
    arm(user, a.bytes);
  }
  return report;
}

}  // namespace emu
