#include "queued_exchange.h"

#include <cstring>

#include "host_staging.h"

namespace wpm::comm {

QueuedExchange::QueuedExchange(DeviceElements elements, bool as_f32)
    : elements_(elements), as_f32_(as_f32 && elements.dtype != WPM_F32 && elements.dtype != WPM_I32) {}

void QueuedExchange::reserve() {
  host_.resize(elements_.count * (as_f32_ ? sizeof(float) : wpm_dtype_size(elements_.dtype)));
}

void QueuedExchange::load() {
  reserve();
  if (as_f32_) widen_elements(elements_.data, elements_.dtype, reinterpret_cast<float*>(host_.data()), elements_.count);
  else std::memcpy(host_.data(), elements_.data, host_.size());
}

void QueuedExchange::store() {
  if (as_f32_) narrow_elements(reinterpret_cast<const float*>(host_.data()), elements_.dtype, elements_.data, elements_.count);
  else std::memcpy(elements_.data, host_.data(), host_.size());
}

void QueuedExchange::copy_stored(float* out) const { widen_elements(elements_.data, elements_.dtype, out, elements_.count); }

}  // namespace wpm::comm
