// A communicator over every rank of the launch, for one context's backend:
// the collectives behind wpm_comm (worldpm.h). Inputs are validated at the
// C ABI; here buffers are live, of the right sizes and dtypes.
//
// Two implementations: MpiCommunicator (cpu and emu backends: host memory
// through MPI; f16/bf16 reduce in f32; on emu every collective is queued on the
// backend's stream and exchanges when the stream runs it, so none waits for the
// device and a graph capture records them) and NcclCommunicator (cuda backend:
// device memory through NCCL on the context's stream, overlapping the caller's
// work). Both answer liveness probes and fail with WPM_ERR_COMM after the
// timeout, naming silent ranks (on emu as the status of the drain that ran the
// collective).
#pragma once

#include <memory>

#include "../handles.h"
#include "outcome.h"

namespace wpm::comm {

class Communicator {
 public:
  virtual ~Communicator() = default;
  int rank() const { return rank_; }
  int size() const { return size_; }

  virtual Outcome all_reduce(wpm_buffer* buffer, wpm_reduce_op op) = 0;
  // When host_copy is not null, wait() also leaves the result there as f32 (f16/bf16 as rounded into the
  // buffer): free on MPI over the cpu backend; a wait for the stream on emu, a read-back on NCCL.
  virtual Outcome all_reduce_start(wpm_buffer* buffer, wpm_reduce_op op, float* host_copy) = 0;
  virtual Outcome wait() = 0;
  virtual Outcome broadcast(wpm_buffer* buffer, int root) = 0;
  virtual Outcome all_gather(const wpm_buffer* send, wpm_buffer* recv) = 0;
  virtual Outcome reduce_scatter(const wpm_buffer* send, wpm_buffer* recv, wpm_reduce_op op) = 0;
  virtual Outcome barrier() = 0;

 protected:
  int rank_ = 0, size_ = 1;
};

// Both start MPI if needed; null with *outcome set when they cannot.
std::unique_ptr<Communicator> make_mpi_communicator(std::shared_ptr<Backend> backend, double timeout_seconds,
                                                    Outcome* outcome);
std::unique_ptr<Communicator> make_nccl_communicator(std::shared_ptr<Backend> backend, double timeout_seconds,
                                                     Outcome* outcome);

}  // namespace wpm::comm
