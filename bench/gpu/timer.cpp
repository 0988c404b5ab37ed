#include "timer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "check.h"

namespace gpubench {

namespace {

// Holds the stream (a host function that waits for finish()) while the repetitions are
// enqueued. The state lives on the heap and is released only after the stream has passed
// the host function, on every path out (an exception while enqueueing included).
class StreamGate {
 public:
  explicit StreamGate(cudaStream_t stream) : stream_(stream), state_(std::make_unique<State>()) {
    check_cuda(cudaLaunchHostFunc(stream_, &StreamGate::hold, state_.get()), "cudaLaunchHostFunc (stream gate)");
  }
  ~StreamGate() {
    if (!finished_) finish();
  }
  StreamGate(const StreamGate&) = delete;
  StreamGate& operator=(const StreamGate&) = delete;

  // Opens the gate and waits until the stream has drained (every repetition done, and the
  // host function done with state_); true when the gate had opened itself on its deadline.
  // A CUDA error here is left for the caller's checks (cudaEventSynchronize, cudaGetLastError).
  bool finish() {
    finished_ = true;
    state_->open.store(true, std::memory_order_release);
    cudaStreamSynchronize(stream_);
    return state_->timed_out.load(std::memory_order_acquire);
  }

 private:
  struct State {
    std::atomic<bool> open{false};
    std::atomic<bool> timed_out{false};
  };
  // Runs on a CUDA runtime thread; it must not call CUDA itself, and does not.
  static void CUDART_CB hold(void* p) {
    State* state = static_cast<State*>(p);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!state->open.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() > deadline) {
        state->timed_out.store(true, std::memory_order_release);
        return;
      }
      std::this_thread::yield();
    }
  }

  cudaStream_t stream_;
  std::unique_ptr<State> state_;
  bool finished_ = false;
};

// 2 * reps events, destroyed on every path out.
class EventPairs {
 public:
  explicit EventPairs(int reps) : events_(size_t(2 * reps), nullptr) {
    for (auto& e : events_) check_cuda(cudaEventCreate(&e), "cudaEventCreate");
  }
  ~EventPairs() {
    for (auto e : events_)
      if (e != nullptr) cudaEventDestroy(e);
  }
  EventPairs(const EventPairs&) = delete;
  EventPairs& operator=(const EventPairs&) = delete;
  cudaEvent_t start(int r) const { return events_[size_t(2 * r)]; }
  cudaEvent_t stop(int r) const { return events_[size_t(2 * r + 1)]; }

 private:
  std::vector<cudaEvent_t> events_;
};

}  // namespace

Timer::Timer(cudaStream_t stream, int warmup, int reps, size_t l2_flush_bytes)
    : stream_(stream), warmup_(warmup), reps_(reps) {
  if (l2_flush_bytes > 0) flush_ = DeviceBuffer(l2_flush_bytes);
}

Timing Timer::time(const std::function<void()>& launch) {
  for (int i = 0; i < warmup_; ++i) launch();
  check_cuda(cudaStreamSynchronize(stream_), "warm-up (cudaStreamSynchronize)");
  check_cuda(cudaGetLastError(), "warm-up (cudaGetLastError)");

  EventPairs events(reps_);
  Timing timing;
  timing.reps = reps_;
  {
    StreamGate gate(stream_);
    for (int r = 0; r < reps_; ++r) {
      if (flush_.get() != nullptr)
        check_cuda(cudaMemsetAsync(flush_.get(), r & 0xff, flush_.bytes(), stream_), "cudaMemsetAsync (L2 flush)");
      check_cuda(cudaEventRecord(events.start(r), stream_), "cudaEventRecord (start)");
      launch();
      check_cuda(cudaEventRecord(events.stop(r), stream_), "cudaEventRecord (stop)");
    }
    timing.gate_timed_out = gate.finish();
  }

  std::vector<double> ms(size_t(reps_), 0.0);
  for (int r = 0; r < reps_; ++r) {
    check_cuda(cudaEventSynchronize(events.stop(r)), "cudaEventSynchronize");
    float elapsed = 0;
    check_cuda(cudaEventElapsedTime(&elapsed, events.start(r), events.stop(r)), "cudaEventElapsedTime");
    ms[size_t(r)] = elapsed;
  }
  check_cuda(cudaGetLastError(), "timed repetitions (cudaGetLastError)");
  std::sort(ms.begin(), ms.end());
  const size_t mid = ms.size() / 2;
  timing.median_ms = ms.size() % 2 == 1 ? ms[mid] : 0.5 * (ms[mid - 1] + ms[mid]);
  timing.min_ms = ms.front();
  return timing;
}

}  // namespace gpubench
