#include "validate.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string>

namespace wpm {

const char* dtype_name(wpm_dtype dtype) {
  switch (dtype) {
    case WPM_F32: return "f32";
    case WPM_F16: return "f16";
    case WPM_BF16: return "bf16";
    case WPM_I32: return "i32";
  }
  return "unknown";
}

namespace {
std::string allowed_names(unsigned allowed) {
  std::string names;
  for (int d = WPM_F32; d <= WPM_I32; ++d) {
    if (!(allowed & (1u << d))) continue;
    if (!names.empty()) names += " or ";
    names += dtype_name(static_cast<wpm_dtype>(d));
  }
  return names;
}
}  // namespace

Checker::Checker(const char* function, const wpm_context* context) : function_(function) {
  clear_error();
  if (context == nullptr) {
    fail(WPM_ERR_INVALID_ARGUMENT, "argument 'context' is NULL");
  } else if (!is_live_handle(context)) {
    fail(WPM_ERR_INVALID_ARGUMENT, "argument 'context' (%p) is not a live context (freed or never created)",
         static_cast<const void*>(context));
  } else {
    context_ = context;
  }
}

Checker::Checker(const char* function) : function_(function) { clear_error(); }

wpm_status Checker::fail(wpm_status status, const char* format, ...) {
  if (status_ != WPM_OK) return status_;
  char detail[768];
  va_list args;
  va_start(args, format);
  std::vsnprintf(detail, sizeof detail, format, args);
  va_end(args);
  status_ = wpm::fail(status, "%s: %s", function_, detail);
  return status_;
}

Checker& Checker::require(bool condition, const char* format, ...) {
  if (!ok() || condition) return *this;
  char detail[768];
  va_list args;
  va_start(args, format);
  std::vsnprintf(detail, sizeof detail, format, args);
  va_end(args);
  fail(WPM_ERR_INVALID_ARGUMENT, "%s", detail);
  return *this;
}

Checker& Checker::not_null(const char* name, const void* pointer) {
  if (ok() && pointer == nullptr) fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' is NULL", name);
  return *this;
}

Checker& Checker::struct_size(const char* name, size_t given, size_t minimum) {
  if (ok() && given < minimum)
    fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' has struct_size %zu; expected at least %zu (set it to sizeof)",
         name, given, minimum);
  return *this;
}

Checker& Checker::positive(const char* name, int64_t value) {
  if (ok() && value <= 0)
    fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' is %lld; it must be positive", name, (long long)value);
  return *this;
}

Checker& Checker::non_negative(const char* name, int64_t value) {
  if (ok() && value < 0)
    fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' is %lld; it must not be negative", name, (long long)value);
  return *this;
}

Checker& Checker::in_range(const char* name, int64_t value, int64_t low, int64_t high) {
  if (ok() && (value < low || value > high))
    fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' is %lld; expected %lld..%lld", name, (long long)value,
         (long long)low, (long long)high);
  return *this;
}

Checker& Checker::finite(const char* name, double value) {
  if (ok() && !std::isfinite(value))
    fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' is %g; it must be finite", name, value);
  return *this;
}

Checker& Checker::buffer(const char* name, const wpm_buffer* buffer, size_t needed, unsigned allowed) {
  if (!ok()) return *this;
  if (buffer == nullptr) {
    fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' is NULL", name);
  } else if (!is_live_handle(buffer)) {
    fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' (%p) is not a live buffer (freed or never allocated)", name,
         static_cast<const void*>(buffer));
  } else if (context_ != nullptr && buffer->context_id != context_->id) {
    fail(WPM_ERR_WRONG_CONTEXT, "argument '%s' belongs to another context", name);
  } else if (!(allowed & (1u << buffer->dtype))) {
    fail(WPM_ERR_DTYPE, "argument '%s' has dtype %s; expected %s", name, dtype_name(buffer->dtype),
         allowed_names(allowed).c_str());
  } else if (buffer->count < needed) {
    fail(WPM_ERR_INVALID_ARGUMENT, "argument '%s' holds %zu elements; the shape needs %zu", name, buffer->count,
         needed);
  }
  return *this;
}

Checker& Checker::optional_buffer(const char* name, const wpm_buffer* buffer, size_t needed, unsigned allowed) {
  return buffer == nullptr ? *this : this->buffer(name, buffer, needed, allowed);
}

Checker& Checker::same_dtype(const char* name, const wpm_buffer* buffer, const char* reference_name,
                             const wpm_buffer* reference) {
  if (ok() && buffer != nullptr && reference != nullptr && buffer->dtype != reference->dtype)
    fail(WPM_ERR_DTYPE, "argument '%s' has dtype %s but '%s' has %s; they must match", name,
         dtype_name(buffer->dtype), reference_name, dtype_name(reference->dtype));
  return *this;
}

size_t Checker::elementwise(int64_t n, std::initializer_list<NamedBuffer> buffers) {
  size_t total = count("n", {n});
  const NamedBuffer& first = *buffers.begin();
  for (const NamedBuffer& b : buffers) buffer(b.first, b.second, total, kFloatTypes);
  for (const NamedBuffer& b : buffers) same_dtype(b.first, b.second, first.first, first.second);
  return ok() ? total : 0;
}

size_t Checker::count(const char* what, std::initializer_list<int64_t> dims) {
  if (!ok()) return 0;
  size_t total = 1;
  for (int64_t dim : dims) {
    if (dim < 0) {
      fail(WPM_ERR_INVALID_ARGUMENT, "'%s' has a negative dimension (%lld)", what, (long long)dim);
      return 0;
    }
    if (__builtin_mul_overflow(total, static_cast<size_t>(dim), &total) || total > (size_t(1) << 60)) {
      fail(WPM_ERR_INVALID_ARGUMENT, "'%s' overflows: the element count does not fit in 2^60", what);
      return 0;
    }
  }
  return total;
}

}  // namespace wpm
