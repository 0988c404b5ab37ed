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

constexpr wpm_dtype kEveryDtype[] = {WPM_F32, WPM_F16, WPM_BF16, WPM_I32};

std::string allowed_names(DtypeSet allowed) {
  std::string names;
  for (wpm_dtype d : kEveryDtype) {
    if (!contains(allowed, d)) continue;
    if (!names.empty()) names += " or ";
    names += dtype_name(d);
  }
  return names;
}

// The detail text of a failure, printf-style.
struct Detail {
  char text[768];
  Detail(const char* format, va_list args) { std::vsnprintf(text, sizeof text, format, args); }
};

}  // namespace

Checker::Checker(const char* function, const wpm_context* context) : function_(function) {
  clear_error();
  if (context == nullptr) {
    fail_argument(WPM_ERR_INVALID_ARGUMENT, "context", "is NULL");
  } else if (!is_live_handle(context)) {
    fail_argument(WPM_ERR_INVALID_ARGUMENT, "context", "(%p) is not a live context (freed or never created)",
                  static_cast<const void*>(context));
  } else {
    context_ = context;
  }
}

Checker::Checker(const char* function) : function_(function) { clear_error(); }

wpm_status Checker::record(wpm_status status, const char* name, const char* detail) {
  if (status_ != WPM_OK) return status_;
  status_ = name == nullptr ? wpm::fail(status, "%s: %s", function_, detail)
                            : wpm::fail_argument(status, name, "%s: %s", function_, detail);
  return status_;
}

wpm_status Checker::fail(wpm_status status, const char* format, ...) {
  if (status_ != WPM_OK) return status_;
  va_list args;
  va_start(args, format);
  Detail detail(format, args);
  va_end(args);
  return record(status, nullptr, detail.text);
}

wpm_status Checker::fail_argument(wpm_status status, const char* name, const char* format, ...) {
  if (status_ != WPM_OK) return status_;
  va_list args;
  va_start(args, format);
  Detail detail(format, args);
  va_end(args);
  std::string text = std::string("argument '") + name + "' " + detail.text;
  return record(status, name, text.c_str());
}

Checker& Checker::require(bool condition, const char* name, const char* format, ...) {
  if (!ok() || condition) return *this;
  va_list args;
  va_start(args, format);
  Detail detail(format, args);
  va_end(args);
  fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "%s", detail.text);
  return *this;
}

Checker& Checker::not_null(const char* name, const void* pointer) {
  if (ok() && pointer == nullptr) fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "is NULL");
  return *this;
}

Checker& Checker::struct_size(const char* name, size_t given, size_t minimum) {
  if (ok() && given < minimum)
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "has struct_size %zu; expected at least %zu (set it to sizeof)",
                  given, minimum);
  return *this;
}

Checker& Checker::positive(const char* name, int64_t value) {
  if (ok() && value <= 0)
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "is %lld; it must be positive", (long long)value);
  return *this;
}

Checker& Checker::non_negative(const char* name, int64_t value) {
  if (ok() && value < 0)
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "is %lld; it must not be negative", (long long)value);
  return *this;
}

Checker& Checker::in_range(const char* name, int64_t value, int64_t low, int64_t high) {
  if (ok() && (value < low || value > high))
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "is %lld; expected %lld..%lld", (long long)value, (long long)low,
                  (long long)high);
  return *this;
}

Checker& Checker::finite(const char* name, double value) {
  if (ok() && !std::isfinite(value))
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "is %g; it must be finite", value);
  return *this;
}

Checker& Checker::buffer(const char* name, const wpm_buffer* buffer, size_t needed, DtypeSet allowed) {
  if (!ok()) return *this;
  if (buffer == nullptr) {
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "is NULL");
  } else if (!is_live_handle(buffer)) {
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "(%p) is not a live buffer (freed or never allocated)",
                  static_cast<const void*>(buffer));
  } else if (context_ != nullptr && buffer->context_id != context_->id) {
    fail_argument(WPM_ERR_WRONG_CONTEXT, name, "belongs to another context");
  } else if (!contains(allowed, buffer->dtype)) {
    fail_argument(WPM_ERR_DTYPE, name, "has dtype %s; expected %s", dtype_name(buffer->dtype),
                  allowed_names(allowed).c_str());
  } else if (buffer->count < needed) {
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "holds %zu elements; the shape needs %zu", buffer->count, needed);
  }
  return *this;
}

Checker& Checker::optional_buffer(const char* name, const wpm_buffer* buffer, size_t needed, DtypeSet allowed) {
  return buffer == nullptr ? *this : this->buffer(name, buffer, needed, allowed);
}

Checker& Checker::same_dtype(const char* name, const wpm_buffer* buffer, const char* reference_name,
                             const wpm_buffer* reference) {
  if (ok() && buffer != nullptr && reference != nullptr && buffer->dtype != reference->dtype)
    fail_argument(WPM_ERR_DTYPE, name, "has dtype %s but '%s' has %s; they must match", dtype_name(buffer->dtype),
                  reference_name, dtype_name(reference->dtype));
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
  char detail[256];
  for (int64_t dim : dims) {
    if (dim < 0) {
      std::snprintf(detail, sizeof detail, "'%s' has a negative dimension (%lld)", what, (long long)dim);
      record(WPM_ERR_INVALID_ARGUMENT, what, detail);
      return 0;
    }
    if (__builtin_mul_overflow(total, static_cast<size_t>(dim), &total) || total > (size_t(1) << 60)) {
      std::snprintf(detail, sizeof detail, "'%s' overflows: the element count does not fit in 2^60", what);
      record(WPM_ERR_INVALID_ARGUMENT, what, detail);
      return 0;
    }
  }
  return total;
}

}  // namespace wpm
