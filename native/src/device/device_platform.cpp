// DevicePlatform's graph capture: the state and the capture rules every device platform shares, so the
// emulator refuses exactly what a CUDA stream capture could not replay.
#include "device_platform.h"

#include "../error.h"

namespace wpm {

wpm_status DevicePlatform::capture_begin() {
  if (capturing_)
    return fail_argument(WPM_ERR_INVALID_ARGUMENT, "context",
                         "%s: argument 'context' is capturing a graph already (one capture at a time)", entry_point());
  captured_launches_ = 0;
  captured_gemms_ = 0;
  abort_reason_.clear();
  if (wpm_status s = start_capture()) return s;
  capturing_ = true;
  return WPM_OK;
}

wpm_status DevicePlatform::capture_end(std::unique_ptr<PlatformGraph>* graph) {
  if (!capturing_) {
    if (!abort_reason_.empty())
      return fail_argument(WPM_ERR_INVALID_ARGUMENT, "context",
                           "%s: argument 'context' has no graph capture in progress: it was aborted by %s",
                           entry_point(), abort_reason_.c_str());
    return fail_argument(WPM_ERR_INVALID_ARGUMENT, "context",
                         "%s: argument 'context' has no graph capture in progress (wpm_graph_capture_begin starts one)",
                         entry_point());
  }
  capturing_ = false;
  if (wpm_status s = finish_capture(graph)) return s;
  (*graph)->launches = captured_launches_;
  (*graph)->gemms = captured_gemms_;
  return WPM_OK;
}

wpm_status DevicePlatform::replay(const PlatformGraph& graph) {
  if (capturing_)
    return fail_argument(WPM_ERR_INVALID_ARGUMENT, "context",
                         "%s: argument 'context' is capturing a graph; a graph cannot be launched inside a capture",
                         entry_point());
  launches_.fetch_add(graph.launches, std::memory_order_relaxed);
  gemms_.fetch_add(graph.gemms, std::memory_order_relaxed);
  return launch_graph(graph);
}

wpm_status DevicePlatform::refuse_in_capture(const char* what) {
  abandon_capture();
  capturing_ = false;
  const char* function = *entry_point() ? entry_point() : "the library";
  abort_reason_ = std::string(function) + " (" + what + ")";
  return fail(WPM_ERR_INVALID_ARGUMENT,
              "%s: %s during graph capture; a replay could not repeat it (do it before wpm_graph_capture_begin or "
              "after wpm_graph_capture_end). The capture is aborted.",
              function, what);
}

}  // namespace wpm
