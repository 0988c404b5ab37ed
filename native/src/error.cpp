#include "error.h"

#include <cstdarg>
#include <cstdio>

namespace wpm {
namespace {
thread_local char message[1024] = "";
thread_local char argument[128] = "";
thread_local const char* current_function = "";

void set_message(const char* format, va_list args) { std::vsnprintf(message, sizeof message, format, args); }
}  // namespace

wpm_status fail(wpm_status status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  set_message(format, args);
  va_end(args);
  argument[0] = '\0';
  return status;
}

wpm_status fail_argument(wpm_status status, const char* name, const char* format, ...) {
  va_list args;
  va_start(args, format);
  set_message(format, args);
  va_end(args);
  std::snprintf(argument, sizeof argument, "%s", name);
  return status;
}

void clear_error() {
  message[0] = '\0';
  argument[0] = '\0';
}

void set_entry_point(const char* function) { current_function = function; }

const char* entry_point() { return current_function; }

const char* last_error() { return message; }

const char* last_error_argument() { return argument; }

}  // namespace wpm
