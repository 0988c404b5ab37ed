// TEMPORARY: not-yet-implemented ops (this file is deleted when its ops land).
#include "cpu_backend.h"
#include "../error.h"
namespace wpm {
#define NI(sig) wpm_status CpuBackend::sig { return fail(WPM_ERR_UNSUPPORTED, "not implemented"); }
NI(gemm(const GemmArgs&))
NI(attention_fwd(const AttentionArgs&))
NI(attention_bwd(const AttentionArgs&))
#undef NI
}
