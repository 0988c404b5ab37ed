// Collectives over NCCL on device memory (cuda backend). The NCCL unique id
// goes from rank 0 to every rank over MPI; each collective is queued on the
// context's stream (so it is ordered after the ops that produced its inputs),
// and waits run on the MPI thread, polling the stream with the same deadline
// and liveness probes as the MPI collectives; a timeout aborts the NCCL
// communicator (ncclCommAbort), so no kernel is left waiting on a dead peer.
//
// Not run on this project's machines (no GPU): it compiles and links in CI,
// and without a device or libnccl.so.2 communicator creation fails with the
// reason (tests check the message).
#include <cstring>
#include <vector>

#include "../cpu/convert.h"
#include "../error.h"
#include "communicator.h"
#include "mpi_library.h"
#include "mpi_thread.h"
#include "nccl_calls.h"
#include "nccl_library.h"
#include "peer_watch.h"
#ifdef WPM_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace wpm::comm {

#ifdef WPM_HAVE_CUDA
namespace {

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::shared_ptr<Backend> backend, const NcclLibrary& nccl, NcclComm comm, MPI_Comm control,
                   int rank, int size, double timeout)
      : backend_(std::move(backend)), nccl_(nccl), comm_(comm), calls_(nccl, comm, backend_->native_stream()),
        control_(control) {
    rank_ = rank;
    size_ = size;
    watch_ = std::make_unique<PeerWatch>(control_, rank, size, timeout);
    stream_ = backend_->native_stream();
  }

  ~NcclCommunicator() override {
    if (aborted_) nccl_.comm_abort(comm_);
    else nccl_.comm_destroy(comm_);
    retire(std::move(watch_), {&control_});
  }

  Outcome all_reduce(wpm_buffer* buffer, wpm_reduce_op op) override {
    if (Outcome queued = all_reduce_start(buffer, op, nullptr); !queued.ok()) return queued;
    return wait();
  }

  Outcome all_reduce_start(wpm_buffer* buffer, wpm_reduce_op op, float* host_copy) override {
    Outcome started = queued(calls_.all_reduce(buffer->data(), buffer->count, buffer->dtype, op), "all_reduce");
    if (started.ok() && host_copy) copies_.push_back({buffer, host_copy});
    return started;
  }

  // While the stream is being captured into a graph the collectives are recorded, not run, and the stream may not
  // be polled: the wait is left to the first wait after the capture (a replayed step's own read-back is its wait).
  Outcome wait() override {
    if (!pending_ || backend_->capturing()) return {};
    Outcome done = MpiThread::instance().run([&] {
      return watch_->await(
          [&] {
            PeerWatch::Poll poll;
            int async_error = kNcclSuccess;
            nccl_.comm_get_async_error(comm_, &async_error);
            if (async_error != kNcclSuccess && async_error != kNcclInProgress) {
              poll.error = std::string("NCCL: ") + nccl_.get_error_string(async_error);
              return poll;
            }
            cudaError_t state = cudaStreamQuery(static_cast<cudaStream_t>(stream_));
            if (state == cudaSuccess) poll.done = true;
            else if (state != cudaErrorNotReady) poll.error = std::string("CUDA: ") + cudaGetErrorString(state);
            return poll;
          },
          "NCCL " + pending_what_);
    });
    pending_ = false;
    if (!done.ok()) aborted_ = true;
    std::vector<Copy> copies;
    copies.swap(copies_);
    if (!done.ok()) return done;
    for (const Copy& copy : copies)
      if (Outcome read = read_as_f32(*copy.buffer, copy.host); !read.ok()) return read;
    return done;
  }

  Outcome broadcast(wpm_buffer* buffer, int root) override {
    Outcome q = queued(calls_.broadcast(buffer->data(), buffer->count, buffer->dtype, root), "broadcast");
    return q.ok() ? wait() : q;
  }

  Outcome all_gather(const wpm_buffer* send, wpm_buffer* recv) override {
    Outcome q = queued(calls_.all_gather(send->data(), send->count, recv->data(), send->dtype), "all_gather");
    return q.ok() ? wait() : q;
  }

  Outcome reduce_scatter(const wpm_buffer* send, wpm_buffer* recv, wpm_reduce_op op) override {
    Outcome q = queued(calls_.reduce_scatter(send->data(), recv->data(), recv->count, send->dtype, op),
                       "reduce_scatter");
    return q.ok() ? wait() : q;
  }

  Outcome barrier() override {
    if (Outcome drained = wait(); !drained.ok()) return drained;
    return MpiThread::instance().run([&] {
      MPI_Request request;
      mpi().Ibarrier(control_, &request);
      return watch_->await(&request, "barrier");
    });
  }

 private:
  Outcome queued(int result, const char* what) {
    if (watch_->broken() || aborted_) return Outcome::failure(WPM_ERR_COMM, "the NCCL communicator failed earlier");
    if (result != kNcclSuccess) {
      aborted_ = true;
      return Outcome::failure(WPM_ERR_COMM, "rank " + std::to_string(rank_) + ": NCCL " + what + " failed: " +
                                                nccl_.get_error_string(result));
    }
    pending_ = true;
    pending_what_ = what;
    return {};
  }

  struct Copy {
    wpm_buffer* buffer;
    float* host;
  };

  // A reduced buffer's elements into host f32 (a read-back of the stream, which is idle after the wait).
  Outcome read_as_f32(const wpm_buffer& buffer, float* host) {
    const size_t n = buffer.count;
    std::vector<uint8_t> raw(n * wpm_dtype_size(buffer.dtype));
    if (backend_->read(raw.data(), buffer.data(), raw.size()) != WPM_OK)
      return Outcome::failure(WPM_ERR_INTERNAL, last_error());
    if (buffer.dtype == WPM_F32) std::memcpy(host, raw.data(), raw.size());
    else if (buffer.dtype == WPM_F16) widen(reinterpret_cast<const f16*>(raw.data()), host, static_cast<int64_t>(n));
    else widen(reinterpret_cast<const bf16*>(raw.data()), host, static_cast<int64_t>(n));
    return {};
  }

  std::shared_ptr<Backend> backend_;
  const NcclLibrary& nccl_;
  NcclComm comm_;
  NcclCalls calls_;
  MPI_Comm control_;
  std::unique_ptr<PeerWatch> watch_;
  void* stream_ = nullptr;
  bool pending_ = false, aborted_ = false;
  std::string pending_what_;
  std::vector<Copy> copies_;  // host copies asked of the started all-reduces, filled at wait()
};

}  // namespace
#endif  // WPM_HAVE_CUDA

std::unique_ptr<Communicator> make_nccl_communicator(std::shared_ptr<Backend> backend, double timeout_seconds,
                                                     Outcome* outcome) {
#ifndef WPM_HAVE_CUDA
  (void)backend;
  (void)timeout_seconds;
  *outcome = Outcome::failure(WPM_ERR_BACKEND_UNAVAILABLE, "NCCL collectives need the cuda backend, which is not built");
  return nullptr;
#else
  std::string why;
  const NcclLibrary* nccl = nccl_library(&why);
  if (nccl == nullptr) {
    *outcome = Outcome::failure(WPM_ERR_BACKEND_UNAVAILABLE, "NCCL is unavailable: " + why);
    return nullptr;
  }
  *outcome = MpiThread::instance().start(timeout_seconds);
  if (!outcome->ok()) return nullptr;
  MPI_Comm control = mpi().COMM_NULL;
  int rank = 0, size = 1;
  // Rank 0 makes the id and sends it with its status, so that when it cannot, every rank fails with NCCL's reason.
  struct {
    int status = kNcclSuccess;
    NcclUniqueId id{};
  } made;
  // A temporary watch bounds the broadcast like any collective.
  *outcome = MpiThread::instance().run([&] {
    if (Outcome copied = duplicate_world({&control}, timeout_seconds); !copied.ok()) return copied;
    mpi().Comm_rank(control, &rank);
    mpi().Comm_size(control, &size);
    if (rank == 0) made.status = nccl->get_unique_id(&made.id);
    PeerWatch watch(control, rank, size, timeout_seconds);
    MPI_Request request;
    mpi().Ibcast(&made, sizeof made, mpi().BYTE, 0, control, &request);
    return watch.await(&request, "broadcast of the NCCL unique id");
  });
  auto release_control = [&] {
    if (control != mpi().COMM_NULL) MpiThread::instance().run([&] { mpi().Comm_free(&control); return Outcome{}; });
  };
  // After a failed or timed-out broadcast the control communicator is left alone: freeing it could wait on the
  // rank that did not come.
  if (!outcome->ok()) return nullptr;
  if (made.status != kNcclSuccess) {
    *outcome = Outcome::failure(WPM_ERR_COMM, "rank " + std::to_string(rank) +
                                                  ": rank 0 could not make the NCCL unique id (ncclGetUniqueId): " +
                                                  nccl->get_error_string(made.status));
    release_control();
    return nullptr;
  }
  NcclComm comm = nullptr;
  int result = nccl->comm_init_rank(&comm, size, made.id, rank);
  if (result != kNcclSuccess) {
    *outcome = Outcome::failure(WPM_ERR_COMM, "rank " + std::to_string(rank) + ": ncclCommInitRank failed: " +
                                                  nccl->get_error_string(result));
    release_control();
    return nullptr;
  }
  return std::make_unique<NcclCommunicator>(std::move(backend), *nccl, comm, control, rank, size, timeout_seconds);
#endif
}

}  // namespace wpm::comm
