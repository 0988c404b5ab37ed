// The result of work done on the MPI thread: a status and its message. The
// C ABI's last-error message is thread-local, so work on another thread
// carries its message back in an Outcome and the calling thread sets it.
#pragma once

#include <string>
#include <utility>

#include "worldpm.h"

namespace wpm::comm {

struct Outcome {
  wpm_status status = WPM_OK;
  std::string message;

  bool ok() const { return status == WPM_OK; }
  static Outcome failure(wpm_status status, std::string message) { return {status, std::move(message)}; }
};

}  // namespace wpm::comm
