// Argument checking for the C ABI entry points. One Checker per call: each
// check is skipped once one has failed, and the first failure's message (which
// names the function, the argument and the bad value) is what the caller sees.
//
//   Checker check("wpm_gelu_fwd", context);
//   size_t n = check.count("n", n_arg);
//   check.buffer("x", x, n, kFloatTypes).buffer("out", out, n, kFloatTypes).same_dtype("out", out, "x", x);
//   if (!check.ok()) return check.status();
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <new>
#include <utility>

#include "error.h"
#include "handles.h"

namespace wpm {

enum DtypeSet : unsigned {
  kF32 = 1u << WPM_F32,
  kF16 = 1u << WPM_F16,
  kBF16 = 1u << WPM_BF16,
  kI32 = 1u << WPM_I32,
  kFloatTypes = kF32 | kF16 | kBF16,
};

const char* dtype_name(wpm_dtype dtype);

class Checker {
 public:
  // Checks that context is a live context (not null, not freed).
  Checker(const char* function, const wpm_context* context);
  // For calls without a context (buffer functions): the context comes from the first buffer.
  explicit Checker(const char* function);

  bool ok() const { return status_ == WPM_OK; }
  wpm_status status() const { return status_; }
  Backend& backend() const { return *context_->backend; }
  const wpm_context* context() const { return context_; }

  Checker& not_null(const char* name, const void* pointer);
  Checker& struct_size(const char* name, size_t given, size_t minimum);
  Checker& positive(const char* name, int64_t value);
  Checker& non_negative(const char* name, int64_t value);
  Checker& in_range(const char* name, int64_t value, int64_t low, int64_t high);
  Checker& finite(const char* name, double value);
  Checker& require(bool condition, const char* format, ...) __attribute__((format(printf, 3, 4)));

  // A live buffer of this context, dtype in allowed, at least `needed` elements.
  Checker& buffer(const char* name, const wpm_buffer* buffer, size_t needed, unsigned allowed);
  // Same, but NULL is accepted (optional argument).
  Checker& optional_buffer(const char* name, const wpm_buffer* buffer, size_t needed, unsigned allowed);
  Checker& same_dtype(const char* name, const wpm_buffer* buffer, const char* reference_name,
                      const wpm_buffer* reference);

  // The operands of an elementwise op over n elements: each a float buffer of at least n
  // elements, all of the first one's dtype. Returns the element count (0 after a failure).
  using NamedBuffer = std::pair<const char*, const wpm_buffer*>;
  size_t elementwise(int64_t n, std::initializer_list<NamedBuffer> buffers);

  // Product of dims as an element count; fails on a negative dim or on overflow.
  size_t count(const char* what, std::initializer_list<int64_t> dims);

  wpm_status fail(wpm_status status, const char* format, ...) __attribute__((format(printf, 3, 4)));

 private:
  const char* function_;
  const wpm_context* context_ = nullptr;
  wpm_status status_ = WPM_OK;
};

// Runs an entry point body, turning any escaped C++ exception into a status:
// the ABI never lets an exception cross it.
template <class Body>
wpm_status guarded(const char* function, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(WPM_ERR_OUT_OF_MEMORY, "%s: out of host memory", function);
  } catch (const std::exception& e) {
    return fail(WPM_ERR_INTERNAL, "%s: internal error: %s", function, e.what());
  } catch (...) {
    return fail(WPM_ERR_INTERNAL, "%s: internal error (unknown exception)", function);
  }
}

}  // namespace wpm
