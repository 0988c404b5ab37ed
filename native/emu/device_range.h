// Whether a pointer range lies in the emulator's device memory (device_memory.cpp).
// Apart from emu.h because only the emu backend's host code asks this: every
// kernel includes emu.h, and none of them needs it.
#pragma once

#include <cstddef>

namespace emu {

// True when [ptr, ptr + bytes) lies inside one live device_alloc allocation (guard bytes
// excluded): what "a device pointer" means on the emulator, where every pointer is a host address.
bool device_range_live(const void* ptr, size_t bytes);

}  // namespace emu
