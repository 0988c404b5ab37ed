// TEMPORARY: not-yet-implemented ops (this file is deleted when its ops land).
#include "cpu_backend.h"
#include "../error.h"
namespace wpm {
#define NI(sig) wpm_status CpuBackend::sig { return fail(WPM_ERR_UNSUPPORTED, "not implemented"); }
NI(embedding_fwd(const int32_t*, const void*, void*, int64_t, int64_t, int64_t, wpm_dtype))
NI(embedding_bwd(const int32_t*, const void*, void*, int64_t, int64_t, int64_t, wpm_dtype))
NI(rmsnorm_fwd(const void*, const void*, void*, float*, int64_t, int64_t, float, wpm_dtype))
NI(rmsnorm_bwd(const void*, const void*, const void*, const float*, void*, void*, int64_t, int64_t, wpm_dtype))
NI(rope(void*, const int32_t*, int64_t, int64_t, int64_t, int64_t, float, float, wpm_dtype))
NI(swiglu_fwd(const void*, const void*, void*, int64_t, wpm_dtype))
NI(swiglu_bwd(const void*, const void*, const void*, void*, void*, int64_t, wpm_dtype))
NI(gelu_fwd(const void*, void*, int64_t, wpm_gelu_kind, wpm_dtype))
NI(gelu_bwd(const void*, const void*, void*, int64_t, wpm_gelu_kind, wpm_dtype))
NI(cast(const void*, wpm_dtype, void*, wpm_dtype, int64_t))
#undef NI
}
