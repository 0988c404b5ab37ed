// Whether a pointer range lies in the emulator's device memory (device_memory.cpp).
// Apart from emu.h because only host code asks this (the emu backend, and the
// runtime's cp.async check): every kernel includes emu.h, and none of them needs it.
#pragma once

#include <cstddef>

namespace emu {

// True when [ptr, ptr + bytes) lies inside one live device_alloc allocation (guard bytes
// excluded): what "a device pointer" means on the emulator, where every pointer is a host address.
bool device_range_live(const void* ptr, size_t bytes);

struct DeviceRange {
  const void* base = nullptr;  // the allocation's first byte; nullptr: none
  size_t bytes = 0;
};
// The live device_alloc allocation that holds all of [ptr, ptr + bytes), or an empty range.
DeviceRange device_allocation_of(const void* ptr, size_t bytes);

}  // namespace emu
