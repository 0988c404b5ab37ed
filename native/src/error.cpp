#include "error.h"

#include <cstdarg>
#include <cstdio>

namespace wpm {
namespace {
thread_local char message[1024] = "";
}

wpm_status fail(wpm_status status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  return status;
}

void clear_error() { message[0] = '\0'; }

const char* last_error() { return message; }

}  // namespace wpm
