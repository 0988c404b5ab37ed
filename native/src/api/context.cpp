// Context entry points: create with a backend choice, destroy, query, synchronize.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <cstdlib>

#include "../device_backends.h"
#include "../validate.h"

namespace {
std::atomic<uint64_t> next_context_id{1};

// sizeof(wpm_context_options) in ABI 0.1, before `stream` was added.
constexpr size_t kContextOptionsV1 = offsetof(wpm_context_options, stream);

// The backend `kind` names; null with the message set when it cannot start or is not built.
std::unique_ptr<wpm::Backend> make_backend(wpm::Checker& check, wpm_backend kind, const wpm_context_options& opts) {
  switch (kind) {
    case WPM_BACKEND_CPU: return wpm::make_cpu_backend(opts.num_threads);
#ifdef WPM_HAVE_EMU
    case WPM_BACKEND_EMU: return wpm::make_emu_backend(opts.num_threads);
#endif
#ifdef WPM_HAVE_CUDA_BACKEND
    case WPM_BACKEND_CUDA: return wpm::make_cuda_backend(opts.device, opts.stream);
#endif
    default: {
      wpm_backend_info info{sizeof(wpm_backend_info)};
      wpm_backend_query(kind, &info);
      check.fail(WPM_ERR_BACKEND_UNAVAILABLE, "backend '%s' is not available: %s",
                 kind == WPM_BACKEND_CUDA ? "cuda" : "emu", info.reason);
      return nullptr;
    }
  }
}

wpm_backend resolve_auto() {
  wpm_backend_info info{sizeof(wpm_backend_info)};
  if (wpm_backend_query(WPM_BACKEND_CUDA, &info) == WPM_OK && info.available) return WPM_BACKEND_CUDA;
  return WPM_BACKEND_CPU;
}
}  // namespace

extern "C" {

wpm_status wpm_context_create(const wpm_context_options* options, wpm_context** context) {
  return wpm::guarded("wpm_context_create", [&] {
    wpm::Checker check("wpm_context_create");
    check.not_null("context", context);
    wpm_context_options opts{sizeof(wpm_context_options), WPM_BACKEND_AUTO, 0, 0, nullptr};
    if (options != nullptr) {
      // Callers built against 0.1 have no `stream` field: read only the bytes they declare.
      check.struct_size("options", options->struct_size, kContextOptionsV1);
      if (check.ok()) std::memcpy(&opts, options, std::min(options->struct_size, sizeof(wpm_context_options)));
      opts.struct_size = sizeof(wpm_context_options);
    }
    check.in_range("options.backend", opts.backend, WPM_BACKEND_AUTO, WPM_BACKEND_EMU)
        .in_range("options.num_threads", opts.num_threads, 0, 4096)
        .non_negative("options.device", opts.device);
    if (!check.ok()) return check.status();
    *context = nullptr;

    wpm_backend kind = opts.backend == WPM_BACKEND_AUTO ? resolve_auto() : opts.backend;
    if (opts.stream != nullptr && kind != WPM_BACKEND_CUDA)
      return check.fail_argument(WPM_ERR_UNSUPPORTED, "options.stream",
                                 "is set, but the %s backend has no CUDA streams",
                        kind == WPM_BACKEND_EMU ? "emu" : "cpu");
    std::unique_ptr<wpm::Backend> backend = make_backend(check, kind, opts);
    if (!backend) return WPM_ERR_BACKEND_UNAVAILABLE;  // make_backend or the factory set the message
    auto* created = new wpm_context();
    created->backend = std::move(backend);
    created->id = next_context_id++;
    wpm::register_handle(created);
    *context = created;
    return WPM_OK;
  });
}

wpm_status wpm_context_destroy(wpm_context* context) {
  if (context == nullptr) return WPM_OK;
  wpm::Checker check("wpm_context_destroy", context);
  if (!check.ok()) return check.status();
  wpm::destroy_handle(context);  // buffers keep the backend alive through their storage
  return WPM_OK;
}

wpm_status wpm_context_backend(const wpm_context* context, wpm_backend* backend) {
  wpm::Checker check("wpm_context_backend", context);
  check.not_null("backend", backend);
  if (!check.ok()) return check.status();
  *backend = context->backend->kind();
  return WPM_OK;
}

wpm_status wpm_context_num_threads(const wpm_context* context, int32_t* num_threads) {
  wpm::Checker check("wpm_context_num_threads", context);
  check.not_null("num_threads", num_threads);
  if (!check.ok()) return check.status();
  *num_threads = context->backend->num_threads();
  return WPM_OK;
}

wpm_status wpm_context_device_counters(const wpm_context* context, wpm_device_counters* counters) {
  wpm::Checker check("wpm_context_device_counters", context);
  check.not_null("counters", counters);
  if (check.ok()) check.struct_size("counters", counters->struct_size, sizeof(wpm_device_counters));
  if (!check.ok()) return check.status();
  if (!context->backend->device_counters(counters))
    return check.fail_argument(WPM_ERR_UNSUPPORTED, "context", "is a cpu context, which queues no device work");
  return WPM_OK;
}

wpm_status wpm_synchronize(wpm_context* context) {
  wpm::Checker check("wpm_synchronize", context);
  if (!check.ok()) return check.status();
  return wpm::guarded("wpm_synchronize", [&] { return context->backend->synchronize(); });
}

}  // extern "C"
