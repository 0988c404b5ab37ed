// Graph entry points (worldpm.h, "graphs"): capture a run of calls on a device context, replay it,
// destroy it. The capture rules (what a recorded region may not do) are the device platform's
// (native/src/device/device_platform.h); here: handles, the cpu backend's refusal, and the rule that a
// graph is never replayed over memory freed since its capture.
#include <memory>

#include "../validate.h"

struct wpm_graph {
  static constexpr wpm::HandleKind kKind = wpm::HandleKind::graph;
  wpm::HandleHeader header;
  std::shared_ptr<wpm::Backend> backend;  // the recording addresses this backend's memory and stream
  std::unique_ptr<wpm::BackendGraph> recorded;
  uint64_t context_id = 0;
};

namespace {

bool check_graphs(wpm::Checker& check, const wpm_context* context) {
  if (check.ok() && !context->backend->has_graphs())
    check.fail_argument(WPM_ERR_UNSUPPORTED, "context",
                        "is a cpu context: graphs record device work, on the cuda and emu backends only");
  return check.ok();
}

}  // namespace

extern "C" {

wpm_status wpm_graph_capture_begin(wpm_context* context) {
  return wpm::guarded("wpm_graph_capture_begin", [&] {
    wpm::Checker check("wpm_graph_capture_begin", context);
    if (!check_graphs(check, context)) return check.status();
    return context->backend->graph_capture_begin();
  });
}

wpm_status wpm_graph_capture_end(wpm_context* context, wpm_graph** graph) {
  return wpm::guarded("wpm_graph_capture_end", [&] {
    wpm::Checker check("wpm_graph_capture_end", context);
    check.not_null("graph", graph);
    if (!check_graphs(check, context)) return check.status();
    *graph = nullptr;
    std::unique_ptr<wpm::BackendGraph> recorded;
    if (wpm_status s = context->backend->graph_capture_end(&recorded)) return s;
    auto* made = new wpm_graph();
    made->backend = context->backend;
    made->recorded = std::move(recorded);
    made->context_id = context->id;
    wpm::register_handle(made);
    *graph = made;
    return WPM_OK;
  });
}

wpm_status wpm_graph_launch(wpm_context* context, const wpm_graph* graph) {
  return wpm::guarded("wpm_graph_launch", [&] {
    wpm::Checker check("wpm_graph_launch", context);
    check.handle("graph", graph, wpm::HandleKind::graph);
    if (check.ok() && graph->context_id != context->id)
      check.fail_argument(WPM_ERR_WRONG_CONTEXT, "graph", "was captured on another context");
    if (!check.ok()) return check.status();
    const auto& allocations = graph->recorded->allocations;
    for (size_t i = 0; i < allocations.size(); ++i)
      if (allocations[i].expired())
        return check.fail_argument(WPM_ERR_INVALID_ARGUMENT, "graph",
                                   "uses a buffer that was freed after the capture (the %zu-th of the %zu it "
                                   "addresses); replaying it would write to freed memory: capture it again",
                                   i + 1, allocations.size());
    return context->backend->graph_launch(*graph->recorded);
  });
}

wpm_status wpm_graph_destroy(wpm_graph* graph) {
  if (graph == nullptr) return WPM_OK;
  wpm::Checker check("wpm_graph_destroy");
  check.handle("graph", graph, wpm::HandleKind::graph);
  if (!check.ok()) return check.status();
  wpm::destroy_handle(graph);
  return WPM_OK;
}

}  // extern "C"
