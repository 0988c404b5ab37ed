// CUDA runtime queries the rest of the library needs before a cuda backend
// exists: is a device visible, and if not, why.
#pragma once

#include <string>

namespace wpm {

// Number of visible CUDA devices; 0 with the runtime's reason in *reason.
int cuda_device_count(std::string* reason);

}  // namespace wpm
