// Collectives over MPI on host memory (cpu and emu backends). Each exchange
// runs on the MPI thread as a non-blocking MPI call plus a bounded wait
// (PeerWatch).
//
// On cpu the buffers are host memory and the collectives are posted at once:
// all_reduce_start returns once its task is queued and runs beside the caller's
// work, the other collectives wait for theirs. On emu every collective is
// stream-ordered device work (queued_exchange.h), like NCCL's on a CUDA stream:
// it is queued on the backend's stream and exchanges when the stream runs it,
// so no collective waits for the device, a failure is the status of the drain
// that ran it, and a graph capture records it.
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
#include "queued_exchange.h"

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

// MPI counts are int: large buffers move in slices of at most 2^30 elements.
constexpr size_t kSlice = size_t(1) << 30;

// The MPI side of one communicator: its two MPI communicators and its watch. Shared with the collectives queued on
// an emu stream or recorded in a graph, which may run after the communicator is destroyed: the MPI communicators
// are freed when the last holder lets go. Its exchanges run on the MPI thread, on host memory.
class Channel {
 public:
  Channel(MPI_Comm data, MPI_Comm control, int rank, int size, double timeout)
      : data_(data), control_(control), rank_(rank), size_(size),
        watch_(std::make_unique<PeerWatch>(control_, rank, size, timeout)) {}
  ~Channel() { retire(std::move(watch_), {&data_, &control_}); }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  int size() const { return size_; }
  // A failure seen on the MPI thread breaks the communicator for good.
  Outcome broken() const {
    if (!watch_->broken()) return {};
    return Outcome::failure(WPM_ERR_COMM, watch_->broken_message());
  }

  // The sum over ranks of `data`, in place, times factor (1/size: the mean).
  Outcome all_reduce(float* data, size_t n, float factor) {
    for (size_t at = 0; at < n; at += kSlice) {
      const int slice = static_cast<int>(std::min(n - at, kSlice));
      MPI_Request request;
      int code = mpi().Iallreduce(MPI_IN_PLACE, data + at, slice, mpi().FLOAT, mpi().SUM, data_, &request);
      if (Outcome done = issued(code, &request, "all_reduce of " + elements(n)); !done.ok()) return done;
    }
    if (factor != 1.0f) scale(data, n, factor);
    return {};
  }

  Outcome broadcast(void* data, size_t n, wpm_dtype dtype, int root) {
    const size_t element = wpm_dtype_size(dtype);
    for (size_t at = 0; at < n; at += kSlice) {
      const int slice = static_cast<int>(std::min(n - at, kSlice));
      MPI_Request request;
      int code = mpi().Ibcast(static_cast<char*>(data) + at * element, slice, element_type(dtype), root, data_,
                              &request);
      if (Outcome done = issued(code, &request, "broadcast of " + elements(n) + " from rank " + std::to_string(root));
          !done.ok())
        return done;
    }
    return {};
  }

  // per_rank elements of `in` from every rank into `out`, in rank order (the boundary keeps per_rank below 2^31).
  Outcome all_gather(const void* in, void* out, size_t per_rank, wpm_dtype dtype) {
    MPI_Request request;
    const MPI_Datatype type = element_type(dtype);
    int code = mpi().Iallgather(in, static_cast<int>(per_rank), type, out, static_cast<int>(per_rank), type, data_,
                                &request);
    return issued(code, &request, "all_gather of " + elements(per_rank) + " per rank");
  }

  // Block `rank` of the sum over ranks of `in` (size x per_rank f32) into `out`, times factor.
  Outcome reduce_scatter(const float* in, float* out, size_t per_rank, float factor) {
    MPI_Request request;
    int code = mpi().Ireduce_scatter_block(in, out, static_cast<int>(per_rank), mpi().FLOAT, mpi().SUM, data_,
                                           &request);
    Outcome done = issued(code, &request, "reduce_scatter of " + elements(per_rank) + " per rank");
    if (done.ok() && factor != 1.0f) scale(out, per_rank, factor);
    return done;
  }

  Outcome barrier() {
    MPI_Request request;
    return issued(mpi().Ibarrier(data_, &request), &request, "barrier");
  }

 private:
  // On the MPI thread: a non-blocking call's return code, then its bounded wait.
  Outcome issued(int code, MPI_Request* request, const std::string& what) {
    if (code != MPI_SUCCESS)
      return Outcome::failure(WPM_ERR_COMM, "rank " + std::to_string(rank_) + ": " + what + " failed in MPI: " +
                                                mpi_error_text(code));
    return watch_->await(request, what);
  }

  MPI_Comm data_, control_;
  int rank_, size_;
  std::unique_ptr<PeerWatch> watch_;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(std::shared_ptr<Backend> backend, MPI_Comm data, MPI_Comm control, int rank, int size,
                  double timeout)
      : backend_(std::move(backend)), queued_(backend_->queues_host_work()),
        channel_(std::make_shared<Channel>(data, control, rank, size, timeout)) {
    rank_ = rank;
    size_ = size;
  }

  // Waits for what was posted; queued work keeps the channel alive until it has run.
  ~MpiCommunicator() override { wait(); }

  Outcome all_reduce(wpm_buffer* buffer, wpm_reduce_op op) override {
    if (Outcome started = all_reduce_start(buffer, op, nullptr); !started.ok()) return started;
    return wait();
  }

  // cpu: posted at once, runs beside the caller's work. emu: queued on the stream; a host copy asked for is
  // written when the stream runs it, which wait() then waits for (the one host wait of those started before it).
  Outcome all_reduce_start(wpm_buffer* buffer, wpm_reduce_op op, float* host_copy) override {
    if (Outcome broken = channel_->broken(); !broken.ok()) return broken;
    const float factor = op == WPM_REDUCE_MEAN ? 1.0f / static_cast<float>(size_) : 1.0f;
    if (queued_) {
      const DeviceElements target = DeviceElements::of(buffer);
      Outcome queued = enqueue("all_reduce of " + elements(target.count), [target, factor, host_copy](Channel& c) {
        auto exchange = std::make_shared<QueuedExchange>(target, /*as_f32=*/true);
        exchange->load();
        Outcome done = MpiThread::instance().run(
            [&] { return c.all_reduce(static_cast<float*>(exchange->data()), exchange->count(), factor); });
        if (!done.ok()) return kept(done, exchange);
        exchange->store();
        if (host_copy) exchange->copy_stored(host_copy);
        return done;
      });
      copies_queued_ = copies_queued_ || (queued.ok() && host_copy);
      return queued;
    }
    auto staging = std::make_shared<HostStaging>(buffer, /*as_f32=*/true);
    if (Outcome ready = prepare(*staging); !ready.ok()) return ready;
    pending_.push_back({post_all_reduce(staging, factor), staging, host_copy});
    return {};
  }

  Outcome wait() override {
    Outcome first;
    if (copies_queued_) {  // the host copies are written when the stream runs their all-reduces
      copies_queued_ = false;
      if (wpm_status s = backend_->synchronize(); s != WPM_OK) first = Outcome::failure(s, last_error());
    }
    while (!pending_.empty()) {
      Pending next = std::move(pending_.front());
      pending_.pop_front();
      Outcome outcome = next.done.get();
      if (!outcome.ok()) keep_after_failure(std::move(next.staging));
      else outcome = next.staging->store();
      if (outcome.ok() && next.host_copy) next.staging->copy_stored(next.host_copy);
      if (first.ok() && !outcome.ok()) first = outcome;
    }
    return first;
  }

  Outcome broadcast(wpm_buffer* buffer, int root) override {
    if (Outcome broken = channel_->broken(); !broken.ok()) return broken;
    if (queued_) {
      const DeviceElements target = DeviceElements::of(buffer);
      return enqueue("broadcast of " + elements(target.count) + " from rank " + std::to_string(root),
                     [target, root](Channel& c) {
                       auto exchange = std::make_shared<QueuedExchange>(target, /*as_f32=*/false);
                       exchange->load();
                       Outcome done = MpiThread::instance().run(
                           [&] { return c.broadcast(exchange->data(), exchange->count(), target.dtype, root); });
                       if (!done.ok()) return kept(done, exchange);
                       exchange->store();
                       return done;
                     });
    }
    auto staging = std::make_shared<HostStaging>(buffer, /*as_f32=*/false);
    if (Outcome ready = prepare(*staging); !ready.ok()) return ready;
    Outcome outcome = MpiThread::instance().run(
        [&] { return channel_->broadcast(staging->data(), staging->count(), buffer->dtype, root); });
    return finished(outcome, staging);
  }

  Outcome all_gather(const wpm_buffer* send, wpm_buffer* recv) override {
    if (Outcome broken = channel_->broken(); !broken.ok()) return broken;
    if (queued_) {
      const DeviceElements from = DeviceElements::of(send), into = DeviceElements::of(recv);
      return enqueue("all_gather of " + elements(from.count) + " per rank", [from, into](Channel& c) {
        auto in = std::make_shared<QueuedExchange>(from, false);
        auto out = std::make_shared<QueuedExchange>(into, false);
        in->load();
        out->reserve();
        Outcome done =
            MpiThread::instance().run([&] { return c.all_gather(in->data(), out->data(), in->count(), from.dtype); });
        if (!done.ok()) return kept(kept(done, in), out);
        out->store();
        return done;
      });
    }
    auto in = std::make_shared<HostStaging>(const_cast<wpm_buffer*>(send), false);
    auto out = std::make_shared<HostStaging>(recv, false);
    if (Outcome ready = prepare(*in); !ready.ok()) return ready;
    out->reserve_output();
    Outcome outcome =
        MpiThread::instance().run([&] { return channel_->all_gather(in->data(), out->data(), in->count(), send->dtype); });
    return finished(outcome, out, in);
  }

  Outcome reduce_scatter(const wpm_buffer* send, wpm_buffer* recv, wpm_reduce_op op) override {
    if (Outcome broken = channel_->broken(); !broken.ok()) return broken;
    const float factor = op == WPM_REDUCE_MEAN ? 1.0f / static_cast<float>(size_) : 1.0f;
    if (queued_) {
      const DeviceElements from = DeviceElements::of(send), into = DeviceElements::of(recv);
      return enqueue("reduce_scatter of " + elements(into.count) + " per rank", [from, into, factor](Channel& c) {
        auto in = std::make_shared<QueuedExchange>(from, true);
        auto out = std::make_shared<QueuedExchange>(into, true);
        in->load();
        out->reserve();
        Outcome done = MpiThread::instance().run([&] {
          return c.reduce_scatter(static_cast<const float*>(in->data()), static_cast<float*>(out->data()),
                                  out->count(), factor);
        });
        if (!done.ok()) return kept(kept(done, in), out);
        out->store();
        return done;
      });
    }
    auto in = std::make_shared<HostStaging>(const_cast<wpm_buffer*>(send), true);
    auto out = std::make_shared<HostStaging>(recv, true);
    if (Outcome ready = prepare(*in); !ready.ok()) return ready;
    out->reserve_output();
    Outcome outcome = MpiThread::instance().run([&] {
      return channel_->reduce_scatter(static_cast<const float*>(in->data()), static_cast<float*>(out->data()),
                                      out->count(), factor);
    });
    return finished(outcome, out, in);
  }

  // A meeting of the hosts, not stream work: on emu the stream's queued collectives run first (a host wait), so
  // every rank has posted them before the barrier, in the order queued.
  Outcome barrier() override {
    if (Outcome drained = wait(); !drained.ok()) return drained;
    if (queued_)
      if (wpm_status s = backend_->synchronize(); s != WPM_OK) return Outcome::failure(s, last_error());
    if (Outcome broken = channel_->broken(); !broken.ok()) return broken;
    return MpiThread::instance().run([&] { return channel_->barrier(); });
  }

 private:
  struct Pending {
    std::future<Outcome> done;
    std::shared_ptr<HostStaging> staging;
    float* host_copy;
  };

  // cpu: the host copy holds the buffer (nothing to copy when MPI works in place, after the backend's work).
  Outcome prepare(HostStaging& staging) {
    if (staging.in_place() && backend_->synchronize() != WPM_OK) return Outcome::failure(WPM_ERR_INTERNAL, last_error());
    return staging.load();
  }

  // A failed exchange's host copy stays alive with the request MPI may still complete into it.
  static Outcome kept(Outcome failed, std::shared_ptr<const void> memory) {
    keep_after_failure(std::move(memory));
    return failed;
  }

  // Queues `exchange` on the backend's stream. When the stream runs it, a failure becomes the status of the
  // call that drained the stream, with a message that names the collective and the entry point that started it.
  Outcome enqueue(std::string what, std::function<Outcome(Channel&)> exchange) {
    std::shared_ptr<Channel> channel = channel_;
    std::string started_by = *entry_point() ? entry_point() : "a collective";
    wpm_status s = backend_->queue_host_work([channel, what = std::move(what), started_by = std::move(started_by),
                                              exchange = std::move(exchange)]() -> wpm_status {
      Outcome done = channel->broken();
      if (done.ok()) done = exchange(*channel);
      if (done.ok()) return WPM_OK;
      return fail(done.status, "the %s queued on the stream by %s failed: %s", what.c_str(), started_by.c_str(),
                  done.message.c_str());
    });
    if (s != WPM_OK) return Outcome::failure(s, last_error());
    return {};
  }

  // The all-reduce of a loaded staging, on the MPI thread; the mean scales the sum there. The task holds the
  // channel by pointer: wait() (and the destructor) takes its outcome first, and a task that held the last
  // reference would free the channel on the MPI thread, whose teardown waits for that thread.
  std::future<Outcome> post_all_reduce(std::shared_ptr<HostStaging> staging, float factor) {
    Channel* channel = channel_.get();
    return MpiThread::instance().post([channel, staging, factor] {
      return channel->all_reduce(static_cast<float*>(staging->data()), staging->count(), factor);
    });
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

  std::shared_ptr<Backend> backend_;
  const bool queued_;  // emu: every collective is stream-ordered work
  std::shared_ptr<Channel> channel_;
  std::deque<Pending> pending_;  // cpu: posted all-reduces, stored back at wait()
  bool copies_queued_ = false;   // emu: an all-reduce with a host copy was queued since the last wait()
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
