#include "validate.h"

#include <cmath>
#include <cstdarg>
#include <algorithm>
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

// The bytes [begin, end) a span touches, in the address space of its context's backend.
struct ByteRange {
  uintptr_t begin = 0, end = 0;
  bool empty() const { return begin == end; }
  bool overlaps(const ByteRange& other) const {
    return !empty() && !other.empty() && begin < other.end && other.begin < end;
  }
  bool operator==(const ByteRange& other) const { return begin == other.begin && end == other.end; }
};

// Only for buffers already checked live: the span's elements are clamped to the buffer's.
ByteRange bytes_of(const Checker::Span& span) {
  if (span.buffer == nullptr) return {};
  const size_t elements = std::min(span.elements, span.buffer->count);
  const auto begin = reinterpret_cast<uintptr_t>(span.buffer->data());
  return {begin, begin + elements * wpm_dtype_size(span.buffer->dtype)};
}

}  // namespace

Checker::Checker(const char* function, const wpm_context* context) : function_(function) {
  clear_error();
  set_entry_point(function);
  handle("context", context, HandleKind::context);
  if (ok()) context_ = context;
}

Checker::Checker(const char* function) : function_(function) {
  clear_error();
  set_entry_point(function);
}

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

Checker& Checker::handle(const char* name, const void* handle, HandleKind kind) {
  if (!ok()) return *this;
  const HandleLookup found = look_up_handle(handle, kind);
  switch (found.problem) {
    case HandleProblem::none: break;
    case HandleProblem::null: fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "is NULL"); break;
    case HandleProblem::unknown:
      fail_argument(WPM_ERR_INVALID_ARGUMENT, name,
                    "(%p) is not a live %s (freed, never created, or not a WorldPM handle)", handle,
                    handle_kind_name(kind));
      break;
    case HandleProblem::wrong_kind:
      fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "(%p) is a %s handle, not a live %s", handle,
                    handle_kind_name(found.actual), handle_kind_name(kind));
      break;
    case HandleProblem::damaged:
      fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "(%p) is a %s whose header was overwritten", handle,
                    handle_kind_name(kind));
      break;
  }
  return *this;
}

Checker& Checker::buffer(const char* name, const wpm_buffer* buffer, size_t needed, DtypeSet allowed) {
  if (!handle(name, buffer, HandleKind::buffer).ok()) return *this;
  if (context_ != nullptr && buffer->context_id != context_->id) {
    fail_argument(WPM_ERR_WRONG_CONTEXT, name, "belongs to another context");
  } else if (!contains(allowed, buffer->dtype)) {
    fail_argument(WPM_ERR_DTYPE, name, "has dtype %s; expected %s", dtype_name(buffer->dtype),
                  allowed_names(allowed).c_str());
  } else if (buffer->count < needed) {
    fail_argument(WPM_ERR_INVALID_ARGUMENT, name, "holds %zu elements; the shape needs %zu", buffer->count, needed);
  } else if (buffer->storage->backend->capturing()) {
    buffer->storage->backend->capture_uses(buffer->storage);  // the graph's replay needs this memory alive
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

size_t Checker::elementwise(int64_t n, std::initializer_list<NamedBuffer> inputs,
                            std::initializer_list<NamedBuffer> outputs) {
  size_t total = count("n", {n});
  const NamedBuffer& first = *inputs.begin();
  for (auto list : {inputs, outputs})
    for (const NamedBuffer& b : list) buffer(b.first, b.second, total, kFloatTypes);
  for (auto list : {inputs, outputs})
    for (const NamedBuffer& b : list) same_dtype(b.first, b.second, first.first, first.second);
  std::vector<Span> input_spans, output_spans;
  for (const NamedBuffer& b : inputs) input_spans.push_back({b.first, b.second, total});
  for (const NamedBuffer& b : outputs) output_spans.push_back({b.first, b.second, total});
  outputs_disjoint(output_spans, input_spans, true);
  return ok() ? total : 0;
}

Checker& Checker::disjoint(const Span& output, const std::vector<Span>& others, bool in_place) {
  if (!ok()) return *this;  // the spans' buffers are checked only when every check so far passed
  const ByteRange mine = bytes_of(output);
  for (const Span& other : others) {
    if (!ok()) break;
    const ByteRange theirs = bytes_of(other);
    if (!mine.overlaps(theirs) || (in_place && mine == theirs)) continue;
    fail_argument(WPM_ERR_INVALID_ARGUMENT, output.name,
                  "shares memory with '%s' (bytes %#zx..%#zx and %#zx..%#zx)%s", other.name, size_t(mine.begin),
                  size_t(mine.end), size_t(theirs.begin), size_t(theirs.end),
                  in_place ? "; an output may lie exactly over an input (in place), not partly"
                           : "; an output must not overlap another argument");
  }
  return *this;
}

Checker& Checker::outputs_disjoint(const std::vector<Span>& outputs, const std::vector<Span>& inputs,
                                   bool in_place) {
  for (size_t o = 0; o < outputs.size(); ++o) {
    disjoint(outputs[o], inputs, in_place);
    // Two outputs never share memory, in place or not; the message names the earlier one.
    disjoint(outputs[o], std::vector<Span>(outputs.begin() + o + 1, outputs.end()));
  }
  return *this;
}

Checker& Checker::all_disjoint(const std::vector<Span>& spans) {
  if (!ok()) return *this;
  // Sorted by first byte, a span overlaps an earlier one iff it starts before the furthest end so far.
  std::vector<size_t> order(spans.size());
  std::vector<ByteRange> ranges(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) order[i] = i, ranges[i] = bytes_of(spans[i]);
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return ranges[x].begin != ranges[y].begin ? ranges[x].begin < ranges[y].begin : x < y;
  });
  size_t reach = spans.size();  // the index of the non-empty span reaching furthest so far
  for (size_t i : order) {
    if (ranges[i].empty()) continue;
    if (reach != spans.size() && ranges[i].overlaps(ranges[reach])) {
      const size_t later = std::max(i, reach), earlier = std::min(i, reach);
      disjoint(spans[later], {spans[earlier]});
      return *this;
    }
    if (reach == spans.size() || ranges[i].end > ranges[reach].end) reach = i;
  }
  return *this;
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
