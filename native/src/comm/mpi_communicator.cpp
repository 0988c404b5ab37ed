// Collectives over MPI on host memory (cpu and emu backends). Each collective
// is posted to the MPI thread as a non-blocking MPI call plus a bounded wait
// (PeerWatch); host copies are loaded and stored on the caller's thread, which
// owns the backend. On cpu all_reduce_start returns once its task is queued; on
// a device backend (emu) the started all-reduces are read back together at
// wait(), so a step's gradient buckets cost one host wait, not one each.
#include <algorithm>
#include <climits>
#include <deque>
#include <future>

#include "../error.h"
#include "communicator.h"
#include "host_staging.h"
#include "mpi_library.h"
#include "mpi_thread.h"
#include "peer_watch.h"

namespace wpm::comm {
namespace {

MPI_Datatype element_type(wpm_dtype dtype) {
  switch (dtype) {
    case WPM_F32: return mpi().FLOAT;
    case WPM_I32: return mpi().INT32_T;
    default: return mpi().UINT16_T;  // f16/bf16 moved as bits
  }
}

// Host memory of `count` f32 scaled by `factor` (the mean of a sum).
void scale(void* data, size_t count, float factor) {
  float* values = static_cast<float*>(data);
  for (size_t i = 0; i < count; ++i) values[i] *= factor;
}

std::string elements(size_t n) { return std::to_string(n) + " elements"; }

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(std::shared_ptr<Backend> backend, MPI_Comm data, MPI_Comm control, int rank, int size,
                  double timeout)
      : backend_(std::move(backend)), data_(data), control_(control) {
    rank_ = rank;
    size_ = size;
    watch_ = std::make_unique<PeerWatch>(control_, rank, size, timeout);
  }

  ~MpiCommunicator() override {
    wait();
    retire(std::move(watch_), {&data_, &control_});
  }

  Outcome all_reduce(wpm_buffer* buffer, wpm_reduce_op op) override {
    if (Outcome started = all_reduce_start(buffer, op, nullptr); !started.ok()) return started;
    return wait();
  }

  // On the cpu backend the all-reduce is posted at once and runs beside the caller's work. On a device
  // backend (emu) its staging is read back only at wait(), with every other all-reduce started since, in
  // one read: one host wait for all of them, where posting each at once would wait once per buffer.
  Outcome all_reduce_start(wpm_buffer* buffer, wpm_reduce_op op, float* host_copy) override {
    if (watch_->broken()) return Outcome::failure(WPM_ERR_COMM, watch_->broken_message());
    auto staging = std::make_shared<HostStaging>(buffer, /*as_f32=*/true);
    const float factor = op == WPM_REDUCE_MEAN ? 1.0f / static_cast<float>(size_) : 1.0f;
    if (backend_->kind() != WPM_BACKEND_CPU) {
      deferred_.push_back({staging, factor, host_copy});
      return {};
    }
    if (Outcome ready = prepare(*staging); !ready.ok()) return ready;
    pending_.push_back({post_all_reduce(staging, factor), staging, host_copy});
    return {};
  }

  Outcome wait() override {
    Outcome first = post_deferred();
    while (!pending_.empty()) {
      Pending next = std::move(pending_.front());
      pending_.pop_front();
      Outcome outcome = next.done.get();
      if (!outcome.ok()) keep_after_failure(std::move(next.staging));
      else if (next.staging) outcome = next.staging->store();
      if (outcome.ok() && next.host_copy) next.staging->copy_stored(next.host_copy);
      if (first.ok() && !outcome.ok()) first = outcome;
    }
    return first;
  }

  Outcome broadcast(wpm_buffer* buffer, int root) override {
    auto staging = std::make_shared<HostStaging>(buffer, /*as_f32=*/false);
    if (Outcome ready = prepare(*staging); !ready.ok()) return ready;
    const MPI_Datatype type = element_type(buffer->dtype);
    Outcome outcome = MpiThread::instance().run([&] {
      const size_t n = staging->count();
      const size_t element = wpm_dtype_size(buffer->dtype);
      for (size_t at = 0; at < n; at += size_t(1) << 30) {
        const int slice = static_cast<int>(std::min(n - at, size_t(1) << 30));
        MPI_Request request;
        int code = mpi().Ibcast(static_cast<char*>(staging->data()) + at * element, slice, type, root, data_, &request);
        if (Outcome done = issued(code, &request, "broadcast of " + elements(n) + " from rank " + std::to_string(root));
            !done.ok())
          return done;
      }
      return Outcome{};
    });
    return finished(outcome, staging);
  }

  Outcome all_gather(const wpm_buffer* send, wpm_buffer* recv) override {
    auto in = std::make_shared<HostStaging>(const_cast<wpm_buffer*>(send), false);
    auto out = std::make_shared<HostStaging>(recv, false);
    if (Outcome ready = prepare(*in); !ready.ok()) return ready;
    out->reserve_output();
    const MPI_Datatype type = element_type(send->dtype);
    Outcome outcome = MpiThread::instance().run([&] {
      MPI_Request request;
      int code = mpi().Iallgather(in->data(), static_cast<int>(in->count()), type, out->data(),
                                  static_cast<int>(in->count()), type, data_, &request);
      return issued(code, &request, "all_gather of " + elements(in->count()) + " per rank");
    });
    return finished(outcome, out, in);
  }

  Outcome reduce_scatter(const wpm_buffer* send, wpm_buffer* recv, wpm_reduce_op op) override {
    auto in = std::make_shared<HostStaging>(const_cast<wpm_buffer*>(send), true);
    auto out = std::make_shared<HostStaging>(recv, true);
    if (Outcome ready = prepare(*in); !ready.ok()) return ready;
    const float factor = op == WPM_REDUCE_MEAN ? 1.0f / static_cast<float>(size_) : 1.0f;
    out->reserve_output();
    Outcome outcome = MpiThread::instance().run([&] {
      MPI_Request request;
      int code = mpi().Ireduce_scatter_block(in->data(), out->data(), static_cast<int>(out->count()), mpi().FLOAT,
                                             mpi().SUM, data_, &request);
      Outcome done = issued(code, &request, "reduce_scatter of " + elements(out->count()) + " per rank");
      if (done.ok() && factor != 1.0f) scale(out->data(), out->count(), factor);
      return done;
    });
    return finished(outcome, out, in);
  }

  Outcome barrier() override {
    if (Outcome drained = wait(); !drained.ok()) return drained;
    return MpiThread::instance().run([&] {
      MPI_Request request;
      return issued(mpi().Ibarrier(data_, &request), &request, "barrier");
    });
  }

 private:
  struct Pending {
    std::future<Outcome> done;
    std::shared_ptr<HostStaging> staging;
    float* host_copy;
  };

  struct Deferred {
    std::shared_ptr<HostStaging> staging;
    float factor;
    float* host_copy;
  };

  // Before a collective: the backend's queued work is done and the host copy holds the buffer. A read-back
  // waits for the queued work itself; only memory that MPI uses in place needs a wait of its own.
  Outcome prepare(HostStaging& staging) {
    if (watch_->broken()) return Outcome::failure(WPM_ERR_COMM, watch_->broken_message());
    if (staging.in_place() && backend_->synchronize() != WPM_OK) return Outcome::failure(WPM_ERR_INTERNAL, last_error());
    return staging.load();
  }

  // The all-reduce of a loaded staging, on the MPI thread; the mean scales the sum there.
  std::future<Outcome> post_all_reduce(std::shared_ptr<HostStaging> staging, float factor) {
    return MpiThread::instance().post([this, staging, factor] {
      void* data = staging->data();
      const size_t n = staging->count();
      // MPI counts are int: reduce in slices of at most 2^30 elements.
      for (size_t at = 0; at < n; at += size_t(1) << 30) {
        const int slice = static_cast<int>(std::min(n - at, size_t(1) << 30));
        MPI_Request request;
        int code = mpi().Iallreduce(MPI_IN_PLACE, static_cast<float*>(data) + at, slice, mpi().FLOAT, mpi().SUM,
                                    data_, &request);
        if (Outcome done = issued(code, &request, "all_reduce of " + elements(n)); !done.ok()) return done;
      }
      if (factor != 1.0f) scale(data, n, factor);
      return Outcome{};
    });
  }

  // The deferred all-reduces: one read-back loads them all, then they are posted in the order started.
  Outcome post_deferred() {
    if (deferred_.empty()) return {};
    std::deque<Deferred> started;
    started.swap(deferred_);
    if (watch_->broken()) return Outcome::failure(WPM_ERR_COMM, watch_->broken_message());
    std::vector<std::shared_ptr<HostStaging>> stagings;
    for (const Deferred& d : started) stagings.push_back(d.staging);
    if (Outcome loaded = HostStaging::load_all(*backend_, stagings); !loaded.ok()) return loaded;
    for (Deferred& d : started) pending_.push_back({post_all_reduce(d.staging, d.factor), d.staging, d.host_copy});
    return {};
  }

  // After a blocking collective: on success the output's host copy goes back into its buffer; on failure every
  // staging it used is kept, since its request may still be posted.
  Outcome finished(const Outcome& outcome, std::shared_ptr<HostStaging> output,
                   std::shared_ptr<HostStaging> input = nullptr) {
    if (outcome.ok()) return output->store();
    keep_after_failure(std::move(output));
    if (input) keep_after_failure(std::move(input));
    return outcome;
  }

  // On the MPI thread: a non-blocking call's return code, then its bounded wait.
  Outcome issued(int code, MPI_Request* request, const std::string& what) {
    if (code != MPI_SUCCESS)
      return Outcome::failure(WPM_ERR_COMM, "rank " + std::to_string(rank_) + ": " + what + " failed in MPI: " +
                                                mpi_error_text(code));
    return watch_->await(request, what);
  }

  std::shared_ptr<Backend> backend_;
  MPI_Comm data_, control_;
  std::unique_ptr<PeerWatch> watch_;
  std::deque<Pending> pending_;
  std::deque<Deferred> deferred_;  // started on a device backend, loaded and posted at wait()
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(std::shared_ptr<Backend> backend, double timeout_seconds,
                                                    Outcome* outcome) {
  *outcome = MpiThread::instance().start(timeout_seconds);
  if (!outcome->ok()) return nullptr;
  std::unique_ptr<Communicator> created;
  *outcome = MpiThread::instance().run([&] {
    MPI_Comm data, control;
    if (Outcome copied = duplicate_world({&data, &control}, timeout_seconds); !copied.ok()) return copied;
    int rank = 0, size = 1;
    mpi().Comm_rank(data, &rank);
    mpi().Comm_size(data, &size);
    created = std::make_unique<MpiCommunicator>(backend, data, control, rank, size, timeout_seconds);
    return Outcome{};
  });
  return created;
}

}  // namespace wpm::comm
