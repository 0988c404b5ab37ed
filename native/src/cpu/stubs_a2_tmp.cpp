// TEMPORARY: not-yet-implemented ops (this file is deleted when its ops land).
#include "cpu_backend.h"
#include "../error.h"
namespace wpm {
#define NI(sig) wpm_status CpuBackend::sig { return fail(WPM_ERR_UNSUPPORTED, "not implemented"); }
NI(last_token_pool_fwd(const void*, const int32_t*, void*, int64_t, int64_t, int64_t, wpm_padding, wpm_dtype))
NI(last_token_pool_bwd(const void*, const int32_t*, void*, int64_t, int64_t, int64_t, wpm_padding, wpm_dtype))
NI(bt_loss_fwd(const BtLossArgs&))
NI(bt_loss_bwd(const BtLossArgs&))
NI(adamw_step(const AdamwArgs&))
NI(global_norm(const TensorRef*, int64_t, float*))
NI(scale_check_finite(const TensorRef*, int64_t, float, float*))
#undef NI
}
