// Host-side preconditions shared by the attention launchers (attention.cu's
// tensor-core kernels and attention_generic.cu's CUDA-core ones): the batch,
// token and head counts and the padding; each launcher then checks the head
// dims and dtypes it covers. Messages start with `op` ("attention_fwd: ").
#pragma once

#include <string>

#include "kemu.h"

// b and h become grid dimensions y/z (<= 65535); t <= 2^30 keeps row indices and T x T loop counts in int.
inline kstatus check_attention_dims(const std::string& op, int64_t b, int64_t t, int64_t h, int64_t kvh,
                                    kpadding padding) {
  if (b < 1 || t < 1 || h < 1 || kvh < 1 || b > 65535 || h > 65535 || t > (int64_t(1) << 30))
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "b = " + std::to_string(b) + ", t = " + std::to_string(t) +
                                               ", h = " + std::to_string(h) + ", kvh = " + std::to_string(kvh) +
                                               " (b, h in 1..65535, t in 1..2^30, kvh >= 1)");
  if (h % kvh != 0)
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "h = " + std::to_string(h) + " is not a multiple of kvh = " +
                                               std::to_string(kvh));
  if (padding != kpadding::right && padding != kpadding::left)
    return kfail(KSTATUS_INVALID_ARGUMENT, op + "unknown padding " + std::to_string(int(padding)));
  return KSTATUS_OK;
}
