#include "host_staging.h"

#include <cstring>
#include <mutex>

#include "../cpu/convert.h"
#include "../error.h"

namespace wpm::comm {
namespace {

Outcome from_status(wpm_status status) {
  if (status == WPM_OK) return {};
  return Outcome::failure(status, last_error());
}

}  // namespace

HostStaging::HostStaging(wpm_buffer* buffer, bool as_f32)
    : buffer_(buffer), as_f32_(as_f32 && buffer->dtype != WPM_F32 && buffer->dtype != WPM_I32) {
  in_place_ = buffer->storage->backend->kind() == WPM_BACKEND_CPU && buffer->storage->owned && !as_f32_;
  if (in_place_) in_place_storage_ = buffer->storage;
}

void widen_elements(const void* src, wpm_dtype dtype, float* dst, size_t n) {
  const int64_t count = static_cast<int64_t>(n);
  switch (dtype) {
    case WPM_F16: widen(static_cast<const f16*>(src), dst, count); break;
    case WPM_BF16: widen(static_cast<const bf16*>(src), dst, count); break;
    default: std::memcpy(dst, src, n * sizeof(float)); break;
  }
}

void narrow_elements(const float* src, wpm_dtype dtype, void* dst, size_t n) {
  const int64_t count = static_cast<int64_t>(n);
  switch (dtype) {
    case WPM_F16: narrow(src, static_cast<f16*>(dst), count); break;
    case WPM_BF16: narrow(src, static_cast<bf16*>(dst), count); break;
    default: std::memcpy(dst, src, n * sizeof(float)); break;
  }
}

void keep_after_failure(std::shared_ptr<const void> staging) {
  static std::mutex guard;
  // Never destroyed, not even at exit: MPI's progress thread may still write into these.
  static auto* kept = new std::vector<std::shared_ptr<const void>>();
  std::lock_guard<std::mutex> lock(guard);
  kept->push_back(std::move(staging));
}

HostRead HostStaging::raw_read() {
  if (in_place_) return {nullptr, nullptr, 0};
  const size_t bytes = buffer_->count * wpm_dtype_size(buffer_->dtype);
  raw_ = std::make_shared<std::vector<uint8_t>>(bytes);
  return {raw_->data(), buffer_->data(), bytes};
}

void HostStaging::take_raw() {
  if (in_place_) return;
  if (!as_f32_) {
    host_ = std::move(raw_);
    return;
  }
  host_->resize(buffer_->count * sizeof(float));
  widen_elements(raw_->data(), buffer_->dtype, reinterpret_cast<float*>(host_->data()), buffer_->count);
}

Outcome HostStaging::load() {
  const HostRead read = raw_read();
  if (read.bytes)
    if (Outcome done = from_status(buffer_->storage->backend->read(read.host, read.src, read.bytes)); !done.ok())
      return done;
  take_raw();
  return {};
}

void HostStaging::reserve_output() {
  if (in_place_) return;
  host_->resize(buffer_->count * (as_f32_ ? sizeof(float) : wpm_dtype_size(buffer_->dtype)));
}

Outcome HostStaging::store() {
  if (in_place_) return {};
  Backend& backend = *buffer_->storage->backend;
  const size_t n = buffer_->count, bytes = n * wpm_dtype_size(buffer_->dtype);
  if (!as_f32_) return from_status(backend.write(buffer_->data(), host_->data(), bytes));
  raw_ = std::make_shared<std::vector<uint8_t>>(bytes);
  narrow_elements(reinterpret_cast<const float*>(host_->data()), buffer_->dtype, raw_->data(), n);
  return from_status(backend.write(buffer_->data(), raw_->data(), bytes));
}

void HostStaging::copy_stored(float* out) const {
  const size_t n = buffer_->count;
  if (in_place_) {
    std::memcpy(out, buffer_->data(), n * sizeof(float));
  } else {
    widen_elements(as_f32_ ? raw_->data() : host_->data(), buffer_->dtype, out, n);
  }
}

}  // namespace wpm::comm
