#include "nccl_calls.h"

namespace wpm::comm {

int nccl_type(wpm_dtype dtype) {
  switch (dtype) {
    case WPM_F16: return kNcclFloat16;
    case WPM_BF16: return kNcclBfloat16;
    case WPM_I32: return kNcclInt32;
    default: return kNcclFloat32;
  }
}

int nccl_op(wpm_reduce_op op) { return op == WPM_REDUCE_MEAN ? kNcclAvg : kNcclSum; }

int NcclCalls::all_reduce(void* data, size_t count, wpm_dtype dtype, wpm_reduce_op op) const {
  return nccl_.all_reduce(data, data, count, nccl_type(dtype), nccl_op(op), comm_, stream_);
}

int NcclCalls::broadcast(void* data, size_t count, wpm_dtype dtype, int root) const {
  return nccl_.broadcast(data, data, count, nccl_type(dtype), root, comm_, stream_);
}

int NcclCalls::all_gather(const void* send, size_t send_count, void* recv, wpm_dtype dtype) const {
  return nccl_.all_gather(send, recv, send_count, nccl_type(dtype), comm_, stream_);
}

int NcclCalls::reduce_scatter(const void* send, void* recv, size_t recv_count, wpm_dtype dtype,
                              wpm_reduce_op op) const {
  return nccl_.reduce_scatter(send, recv, recv_count, nccl_type(dtype), nccl_op(op), comm_, stream_);
}

}  // namespace wpm::comm
