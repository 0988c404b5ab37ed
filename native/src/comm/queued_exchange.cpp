#include "queued_exchange.h"

#include <cstring>

#include "../cpu/convert.h"

namespace wpm::comm {

QueuedExchange::QueuedExchange(DeviceElements elements, bool as_f32)
    : elements_(elements), as_f32_(as_f32 && elements.dtype != WPM_F32 && elements.dtype != WPM_I32) {}

void QueuedExchange::reserve() {
  host_.resize(elements_.count * (as_f32_ ? sizeof(float) : wpm_dtype_size(elements_.dtype)));
}

void QueuedExchange::load() {
  reserve();
  const int64_t n = static_cast<int64_t>(elements_.count);
  if (!as_f32_) {
    std::memcpy(host_.data(), elements_.data, host_.size());
    return;
  }
  float* f32 = reinterpret_cast<float*>(host_.data());
  if (elements_.dtype == WPM_F16) widen(static_cast<const f16*>(elements_.data), f32, n);
  else widen(static_cast<const bf16*>(elements_.data), f32, n);
}

void QueuedExchange::store() {
  const int64_t n = static_cast<int64_t>(elements_.count);
  if (!as_f32_) {
    std::memcpy(elements_.data, host_.data(), host_.size());
    return;
  }
  const float* f32 = reinterpret_cast<const float*>(host_.data());
  if (elements_.dtype == WPM_F16) narrow(f32, static_cast<f16*>(elements_.data), n);
  else narrow(f32, static_cast<bf16*>(elements_.data), n);
}

void QueuedExchange::copy_stored(float* out) const {
  const int64_t n = static_cast<int64_t>(elements_.count);
  switch (elements_.dtype) {
    case WPM_F16: widen(static_cast<const f16*>(elements_.data), out, n); break;
    case WPM_BF16: widen(static_cast<const bf16*>(elements_.data), out, n); break;
    default: std::memcpy(out, elements_.data, size_t(n) * sizeof(float)); break;
  }
}

}  // namespace wpm::comm
