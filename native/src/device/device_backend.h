// The device backend: every Backend op on a DevicePlatform through the
// kernels in kernels/*.cu. device_backend.cpp is compiled once per kernel
// build, inside the namespace of that build's launchers (WPM_KERNELS_NS:
// kernels_cuda for nvcc's objects, kernels_emu for the emulator's), so the
// factory below exists as wpm::kernels_cuda::make_device_backend and
// wpm::kernels_emu::make_device_backend.
#pragma once

#include <memory>

#include "device_platform.h"

#ifndef WPM_KERNELS_NS
#error "device_backend.h is compiled with WPM_KERNELS_NS set to the kernel build it uses"
#endif

namespace wpm::WPM_KERNELS_NS {
std::unique_ptr<Backend> make_device_backend(std::unique_ptr<DevicePlatform> platform);
}  // namespace wpm::WPM_KERNELS_NS
