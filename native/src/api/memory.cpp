// Buffer entry points: allocation, wrapping caller-owned memory, views, host copies, fills.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "../validate.h"

namespace {

// A live buffer handle (context taken from the buffer itself).
wpm::Checker& live_buffer(wpm::Checker& check, const char* name, const wpm_buffer* buffer) {
  return check.buffer(name, buffer, 0, wpm::kFloatTypes | wpm::kI32);
}

// offset + count within the buffer, overflow-safe.
wpm::Checker& within(wpm::Checker& check, const wpm_buffer* buffer, size_t offset, size_t count) {
  if (check.ok() && (offset > buffer->count || count > buffer->count - offset))
    check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "offset",
                        "is %zu; with count %zu the range exceeds the buffer's %zu elements", offset, count,
                        buffer->count);
  return check;
}

wpm_status new_handle(const std::shared_ptr<wpm::Storage>& storage, uint64_t context_id, wpm_dtype dtype,
                      size_t offset, size_t count, wpm_buffer** out) {
  auto* buffer = new wpm_buffer();
  buffer->context_id = context_id;
  buffer->storage = storage;
  buffer->offset = offset;
  buffer->count = count;
  buffer->dtype = dtype;
  wpm::register_handle(buffer);
  *out = buffer;
  return WPM_OK;
}

}  // namespace

extern "C" {

size_t wpm_dtype_size(wpm_dtype dtype) {
  switch (dtype) {
    case WPM_F32: return 4;
    case WPM_F16: return 2;
    case WPM_BF16: return 2;
    case WPM_I32: return 4;
  }
  return 0;
}

wpm_status wpm_buffer_alloc(wpm_context* context, wpm_dtype dtype, size_t count, wpm_buffer** buffer) {
  return wpm::guarded("wpm_buffer_alloc", [&] {
    wpm::Checker check("wpm_buffer_alloc", context);
    check.not_null("buffer", buffer).in_range("dtype", dtype, WPM_F32, WPM_I32);
    if (check.ok() && count > (size_t(1) << 40))
      check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "count", "is %zu; more than 2^40 elements", count);
    if (!check.ok()) return check.status();
    *buffer = nullptr;
    auto storage = std::make_shared<wpm::Storage>();
    storage->backend = context->backend;
    storage->bytes = count * wpm_dtype_size(dtype);
    wpm_status status = context->backend->alloc(storage->bytes, &storage->ptr);
    if (status != WPM_OK) return status;
    return new_handle(storage, context->id, dtype, 0, count, buffer);
  });
}

wpm_status wpm_buffer_wrap(wpm_context* context, wpm_dtype dtype, void* pointer, size_t count, wpm_buffer** buffer) {
  return wpm::guarded("wpm_buffer_wrap", [&] {
    wpm::Checker check("wpm_buffer_wrap", context);
    check.not_null("buffer", buffer).in_range("dtype", dtype, WPM_F32, WPM_I32);
    if (!check.ok()) return check.status();
    *buffer = nullptr;
    const size_t element = wpm_dtype_size(dtype);
    const auto address = reinterpret_cast<uintptr_t>(pointer);
    // The same element limit as wpm_buffer_alloc, so count * element cannot overflow either.
    if (count > (size_t(1) << 40))
      return check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "count", "is %zu; more than 2^40 elements", count);
    const size_t bytes = count * element;
    if (pointer == nullptr && count > 0)
      return check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "pointer", "is NULL but 'count' is %zu", count);
    if (address % element != 0)  // the kernels load whole elements; a misaligned one faults on a GPU
      return check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "pointer",
                                 "(%p) is not aligned to the %zu bytes of a %s element",
                        pointer, element, wpm::dtype_name(dtype));
    if (address > UINTPTR_MAX - bytes)
      return check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "count",
                                 "is %zu; %zu bytes from 'pointer' (%p) run past the end of the address space",
                                 count, bytes, pointer);
    if (pointer != nullptr) {
      const std::string problem = context->backend->caller_memory_problem(pointer, bytes);
      if (!problem.empty())
        return check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "pointer", "(%p, %zu bytes) cannot be wrapped: %s", pointer,
                          bytes, problem.c_str());
    }
    auto storage = std::make_shared<wpm::Storage>();
    storage->backend = context->backend;
    storage->ptr = pointer;
    storage->bytes = bytes;
    storage->owned = false;  // the caller's memory: the last handle must not release it
    return new_handle(storage, context->id, dtype, 0, count, buffer);
  });
}

wpm_status wpm_buffer_device_pointer(const wpm_buffer* buffer, void** pointer) {
  wpm::Checker check("wpm_buffer_device_pointer");
  live_buffer(check, "buffer", buffer).not_null("pointer", pointer);
  if (!check.ok()) return check.status();
  *pointer = buffer->data();  // NULL only for an empty buffer wrapped over NULL (offset 0 then)
  return WPM_OK;
}

wpm_status wpm_buffer_view(wpm_buffer* parent, size_t offset, size_t count, wpm_buffer** view) {
  return wpm::guarded("wpm_buffer_view", [&] {
    wpm::Checker check("wpm_buffer_view");
    live_buffer(check, "parent", parent).not_null("view", view);
    within(check, parent, offset, count);
    if (!check.ok()) return check.status();
    return new_handle(parent->storage, parent->context_id, parent->dtype, parent->offset + offset, count, view);
  });
}

wpm_status wpm_buffer_free(wpm_buffer* buffer) {
  if (buffer == nullptr) return WPM_OK;
  wpm::Checker check("wpm_buffer_free");
  live_buffer(check, "buffer", buffer);
  if (!check.ok()) return check.status();
  // The last handle of a buffer releases its memory, which a graph capture refuses: the capture is then
  // aborted (the platform set the message naming this call) and the buffer is freed all the same.
  const std::shared_ptr<wpm::Backend> backend = buffer->storage->backend;
  const bool was_capturing = backend->capturing();
  wpm::destroy_handle(buffer);
  if (was_capturing && !backend->capturing()) return WPM_ERR_INVALID_ARGUMENT;
  return WPM_OK;
}

wpm_status wpm_buffer_info(const wpm_buffer* buffer, wpm_dtype* dtype, size_t* count) {
  wpm::Checker check("wpm_buffer_info");
  live_buffer(check, "buffer", buffer);
  if (!check.ok()) return check.status();
  if (dtype) *dtype = buffer->dtype;
  if (count) *count = buffer->count;
  return WPM_OK;
}

wpm_status wpm_buffer_write(wpm_buffer* buffer, size_t offset, const void* host, size_t count) {
  return wpm::guarded("wpm_buffer_write", [&] {
    wpm::Checker check("wpm_buffer_write");
    live_buffer(check, "buffer", buffer);
    if (count > 0) check.not_null("host", host);
    within(check, buffer, offset, count);
    if (!check.ok()) return check.status();
    size_t element = wpm_dtype_size(buffer->dtype);
    return buffer->storage->backend->write(static_cast<char*>(buffer->data()) + offset * element, host,
                                           count * element);
  });
}

wpm_status wpm_buffer_read(const wpm_buffer* buffer, size_t offset, void* host, size_t count) {
  return wpm::guarded("wpm_buffer_read", [&] {
    wpm::Checker check("wpm_buffer_read");
    live_buffer(check, "buffer", buffer);
    if (count > 0) check.not_null("host", host);
    within(check, buffer, offset, count);
    if (!check.ok()) return check.status();
    size_t element = wpm_dtype_size(buffer->dtype);
    return buffer->storage->backend->read(host, static_cast<const char*>(buffer->data()) + offset * element,
                                          count * element);
  });
}

wpm_status wpm_buffer_copy(wpm_buffer* dst, const wpm_buffer* src) {
  return wpm::guarded("wpm_buffer_copy", [&] {
    wpm::Checker check("wpm_buffer_copy");
    live_buffer(check, "dst", dst);
    live_buffer(check, "src", src).same_dtype("src", src, "dst", dst);
    if (check.ok() && src->context_id != dst->context_id)
      check.fail_argument(WPM_ERR_WRONG_CONTEXT, "src", "belongs to another context than 'dst'");
    if (check.ok() && src->count != dst->count)
      check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "src", "holds %zu elements but 'dst' holds %zu", src->count,
                 dst->count);
    if (!check.ok()) return check.status();
    return dst->storage->backend->copy(dst->data(), src->data(), dst->count * wpm_dtype_size(dst->dtype));
  });
}

wpm_status wpm_buffer_fill(wpm_buffer* buffer, double value) {
  return wpm::guarded("wpm_buffer_fill", [&] {
    wpm::Checker check("wpm_buffer_fill");
    live_buffer(check, "buffer", buffer);
    if (check.ok() && buffer->dtype == WPM_I32 && (value != std::floor(value) || std::fabs(value) > 2147483647.0))
      check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "value", "is %g; an i32 buffer takes whole numbers in range",
                 value);
    if (!check.ok()) return check.status();
    return buffer->storage->backend->fill(buffer->data(), buffer->dtype, buffer->count, value);
  });
}

static wpm_status fill_random(const char* function, wpm_buffer* buffer, uint64_t seed, bool normal, float a,
                              float b) {
  return wpm::guarded(function, [&] {
    wpm::Checker check(function);
    check.buffer("buffer", buffer, 0, wpm::kFloatTypes);
    if (normal) {
      check.finite("mean", a).finite("stddev", b).require(b >= 0, "stddev", "is %g; it must be >= 0", b);
    } else {
      check.finite("low", a).finite("high", b).require(a <= b, "low", "(%g) is above 'high' (%g)", a, b);
    }
    if (!check.ok()) return check.status();
    return buffer->storage->backend->fill_random(buffer->data(), buffer->dtype, buffer->count, seed, normal, a, b);
  });
}

wpm_status wpm_fill_uniform(wpm_buffer* buffer, uint64_t seed, float low, float high) {
  return fill_random("wpm_fill_uniform", buffer, seed, false, low, high);
}

wpm_status wpm_fill_normal(wpm_buffer* buffer, uint64_t seed, float mean, float stddev) {
  return fill_random("wpm_fill_normal", buffer, seed, true, mean, stddev);
}

}  // extern "C"
