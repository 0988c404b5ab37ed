// Argument checking for the C ABI entry points. One Checker per call: each
// check is skipped once one has failed, and the first failure's message (which
// names the function, the argument and the bad value) is what the caller sees.
// Every check that takes an argument's name records it as the error's argument
// (wpm_last_error_argument), so the name reaches callers as data, not as text.
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
#include <vector>

#include "error.h"
#include "handles.h"

namespace wpm {

// The dtypes an argument may have, as a set of wpm_dtype values (bit d stands for dtype d):
// a mask over the ABI's own enum, not a numbering of its own.
using DtypeSet = unsigned;
constexpr DtypeSet dtype_set(wpm_dtype dtype) { return 1u << unsigned(dtype); }
constexpr bool contains(DtypeSet set, wpm_dtype dtype) { return (set & dtype_set(dtype)) != 0; }

inline constexpr DtypeSet kF32 = dtype_set(WPM_F32);
inline constexpr DtypeSet kF16 = dtype_set(WPM_F16);
inline constexpr DtypeSet kBF16 = dtype_set(WPM_BF16);
inline constexpr DtypeSet kI32 = dtype_set(WPM_I32);
inline constexpr DtypeSet kFloatTypes = kF32 | kF16 | kBF16;

const char* dtype_name(wpm_dtype dtype);

// The most entries an array of handles may have (the tensors of an AdamW step or a gradient
// utility): far above any model's tensor count, and checked before anything is sized by it.
inline constexpr int64_t kMaxHandleArray = int64_t(1) << 24;

class Checker {
 public:
  // Checks that context is a live context (not null, not freed, not a handle of another kind).
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
  // Fails with WPM_ERR_INVALID_ARGUMENT unless condition holds; the message is
  // "<function>: argument '<name>' <format...>".
  Checker& require(bool condition, const char* name, const char* format, ...) __attribute__((format(printf, 4, 5)));

  // A live handle of `kind`: not NULL, not freed, not foreign, not a handle of another kind.
  Checker& handle(const char* name, const void* handle, HandleKind kind);

  // A live buffer of this context, dtype in allowed, at least `needed` elements.
  Checker& buffer(const char* name, const wpm_buffer* buffer, size_t needed, DtypeSet allowed);
  // Same, but NULL is accepted (optional argument).
  Checker& optional_buffer(const char* name, const wpm_buffer* buffer, size_t needed, DtypeSet allowed);
  Checker& same_dtype(const char* name, const wpm_buffer* buffer, const char* reference_name,
                      const wpm_buffer* reference);

  // The operands of an elementwise op over n elements: each a float buffer of at least n
  // elements, all of the first input's dtype; each output either exactly over an input
  // (in place) or sharing no byte with it, and no two outputs overlapping. Returns the
  // element count (0 after a failure).
  using NamedBuffer = std::pair<const char*, const wpm_buffer*>;
  size_t elementwise(int64_t n, std::initializer_list<NamedBuffer> inputs, std::initializer_list<NamedBuffer> outputs);

  // The bytes an op touches of a buffer argument: its first `elements` elements.
  struct Span {
    const char* name;
    const wpm_buffer* buffer;  // NULL (an optional argument left out) touches nothing
    size_t elements;
  };
  // Spans are of buffers already checked. Fails naming `output` when its bytes share memory
  // with any of `others`, whichever handles they come through (views of one allocation,
  // wrapped memory). With in_place, an output that covers exactly the bytes of one of them
  // (same first byte, same length) is allowed.
  Checker& disjoint(const Span& output, const std::vector<Span>& others, bool in_place = false);
  // Each output disjoint from every input (or, with in_place, exactly over one) and from the
  // other outputs; an overlap of two outputs names the earlier.
  Checker& outputs_disjoint(const std::vector<Span>& outputs, const std::vector<Span>& inputs,
                            bool in_place = false);
  // No two of spans share a byte; names the later argument (in spans' order) of an overlapping pair.
  Checker& all_disjoint(const std::vector<Span>& spans);

  // Product of dims as an element count; fails on a negative dim or on overflow, naming `what`
  // (an argument, or a product of them such as "vocab * c").
  size_t count(const char* what, std::initializer_list<int64_t> dims);

  // A failure about argument `name`: "<function>: argument '<name>' <format...>".
  wpm_status fail_argument(wpm_status status, const char* name, const char* format, ...)
      __attribute__((format(printf, 4, 5)));
  // A failure about no single argument: "<function>: <format...>".
  wpm_status fail(wpm_status status, const char* format, ...) __attribute__((format(printf, 3, 4)));

 private:
  // The first failure wins; name is nullptr for a failure about no single argument.
  wpm_status record(wpm_status status, const char* name, const char* detail);

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
