// Library-level entry points: version, errors, what backends exist here.
#include <cstdio>
#include <cstring>
#include <string>

#include "../cpu/bf16_gemm_path.h"
#include "../cpu/blas.h"
#include "../cpu/cpu_features.h"
#include "../device_backends.h"
#include "../error.h"
#include "../validate.h"
#ifdef WPM_HAVE_CUDA
#include "../cuda/device.h"
#endif

#define WPM_STR2(x) #x
#define WPM_STR(x) WPM_STR2(x)

extern "C" {

uint32_t wpm_version(void) { return WPM_VERSION; }

const char* wpm_version_string(void) {
  return WPM_STR(WPM_VERSION_MAJOR) "." WPM_STR(WPM_VERSION_MINOR) "." WPM_STR(WPM_VERSION_PATCH);
}

const char* wpm_last_error(void) { return wpm::last_error(); }

const char* wpm_last_error_argument(void) { return wpm::last_error_argument(); }

const char* wpm_status_name(wpm_status status) {
  switch (status) {
    case WPM_OK: return "ok";
    case WPM_ERR_INVALID_ARGUMENT: return "invalid argument";
    case WPM_ERR_DTYPE: return "unsupported or mismatched dtype";
    case WPM_ERR_OUT_OF_MEMORY: return "out of memory";
    case WPM_ERR_BACKEND_UNAVAILABLE: return "backend unavailable";
    case WPM_ERR_UNSUPPORTED: return "unsupported";
    case WPM_ERR_WRONG_CONTEXT: return "buffer from another context";
    case WPM_ERR_INTERNAL: return "internal error";
    case WPM_ERR_COMM: return "collective failed";
  }
  return "unknown status";
}

wpm_status wpm_backend_query(wpm_backend backend, wpm_backend_info* info) {
  wpm::Checker check("wpm_backend_query");
  check.not_null("info", info);
  if (check.ok()) check.struct_size("info", info->struct_size, sizeof(wpm_backend_info));
  check.in_range("backend", backend, WPM_BACKEND_CPU, WPM_BACKEND_EMU);
  if (!check.ok()) return check.status();

  auto set = [&](int built, int available, int devices, const std::string& reason) {
    info->built = built;
    info->available = available;
    info->device_count = devices;
    std::snprintf(info->reason, sizeof info->reason, "%s", reason.c_str());
    return WPM_OK;
  };
  switch (backend) {
    case WPM_BACKEND_CPU:
    {
      bool ready = wpm::blas_ready();
      wpm::clear_error();
      return set(1, ready ? 1 : 0, 0,
                 std::string("host CPU: ") + wpm::cpu_features_string() + "; BLAS: " + wpm::blas_description() +
                     "; bf16 GEMM: " + wpm::choose_bf16_gemm_path().description);
    }
    case WPM_BACKEND_CUDA: {
#ifdef WPM_HAVE_CUDA
      std::string reason;
      int devices = wpm::cuda_device_count(&reason);
      if (devices == 0) return set(1, 0, 0, "built, " + reason);
      return set(1, 1, devices, "built, " + std::to_string(devices) + " device(s) visible");
#else
      return set(0, 0, 0, "not built: nvcc was not found when the library was configured");
#endif
    }
    case WPM_BACKEND_EMU: {
#ifdef WPM_HAVE_EMU
      const std::string problem = wpm::emu_unavailable_reason();
      if (!problem.empty()) return set(1, 0, 0, "built, " + problem);
      return set(1, 1, 0, "kernel emulator: kernels/*.cu on the CPU, schedule WORLDPM_EMU_SCHEDULE=forward|reverse|greedy|random:SEED");
#else
      return set(0, 0, 0, "not built: Boost.Context was not found when the library was configured");
#endif
    }
    default:
      return WPM_OK;  // unreachable: checked above
  }
}

wpm_status wpm_cpu_features(const char** features) {
  wpm::Checker check("wpm_cpu_features");
  check.not_null("features", features);
  if (!check.ok()) return check.status();
  *features = wpm::cpu_features_string();
  return WPM_OK;
}

}  // extern "C"
