// The NCCL call behind each collective of the cuda communicator: which pointers,
// element count, data type and reduction NCCL is given, on which communicator and
// stream. Apart from NcclCommunicator, which adds MPI bootstrap, liveness probes and
// waiting on the stream, so that this mapping runs in tests against a fake NCCL of
// in-process ranks (tests/native/vendor/fake_nccl.h) on machines with no GPU or NCCL.
#pragma once

#include <cstddef>

#include "nccl_library.h"
#include "worldpm.h"

namespace wpm::comm {

int nccl_type(wpm_dtype dtype);
int nccl_op(wpm_reduce_op op);

class NcclCalls {
 public:
  NcclCalls(const NcclLibrary& nccl, NcclComm comm, CudaStream stream) : nccl_(nccl), comm_(comm), stream_(stream) {}

  // Each returns NCCL's result code (kNcclSuccess when queued).
  int all_reduce(void* data, size_t count, wpm_dtype dtype, wpm_reduce_op op) const;
  int broadcast(void* data, size_t count, wpm_dtype dtype, int root) const;
  // recv gets every rank's send_count elements, in rank order (NCCL counts per rank).
  int all_gather(const void* send, size_t send_count, void* recv, wpm_dtype dtype) const;
  // recv gets this rank's recv_count-element share of the reduced send (NCCL counts the share).
  int reduce_scatter(const void* send, void* recv, size_t recv_count, wpm_dtype dtype, wpm_reduce_op op) const;

 private:
  const NcclLibrary& nccl_;
  NcclComm comm_;
  CudaStream stream_;
};

}  // namespace wpm::comm
