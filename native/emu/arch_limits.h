// The per-block shared-memory limits of the architectures the kernels are built for,
// which the emulator checks each launch against (emu::Config::arch).
#pragma once

#include <cstddef>

#include "emu.h"

namespace emu {

struct SharedLimits {
  const char* arch;
  size_t per_block;    // static + dynamic, with the opt-in attribute klaunch sets
  size_t static_max;   // __shared__ arrays alone
};

inline SharedLimits shared_limits(Arch arch) {
  // sm_80: 164 KiB per SM less the 1 KiB the driver keeps per block; sm_90: 228 KiB likewise.
  if (arch == Arch::sm_90) return SharedLimits{"sm_90", 227u << 10, 48u << 10};
  return SharedLimits{"sm_80", 163u << 10, 48u << 10};
}

}  // namespace emu
