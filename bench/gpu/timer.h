// Timing one kernel (or one cuBLASLt call, or one copy) with CUDA events.
//
// Per measurement: `warmup` launches, a stream synchronize (which also surfaces any
// error of the warm-up), then `reps` repetitions, EACH between its own pair of events:
//
//   [gate] [flush L2] start_0 launch stop_0 [flush L2] start_1 launch stop_1 ...
//
// so every repetition has its own elapsed time and the median and min are real order
// statistics (one event pair around N launches would give only a mean).
//
// Two things keep a repetition's time the kernel's own:
//   - the gate: a host function queued first (cudaLaunchHostFunc) holds the stream until
//     every repetition is enqueued, so the GPU runs them back to back and no event pair
//     brackets host launch overhead (which is larger than a small kernel: 3-5 us per
//     launch against 2-10 us kernels). If enqueueing ever blocked (a full launch queue),
//     the gate opens itself after 2 s (enqueueing 200 repetitions takes
//     milliseconds) and the timing is flagged `gate_timed_out`.
//   - the L2 flush: a cudaMemsetAsync over twice the L2 size before each start event
//     (outside the timed pair), so every repetition starts with its inputs in DRAM, as in
//     a training step where the previous op has evicted them. --warm-l2 turns it off.
//
// Nothing is launched with <<<>>> here: the launch callback calls the kernels' own
// launchers (kernels.h), cuBLASLt or cudaMemcpyAsync.
#pragma once

#include <cuda_runtime_api.h>

#include <functional>

#include "device_buffer.h"

namespace gpubench {

struct Timing {
  double median_ms = 0, min_ms = 0;
  int reps = 0;
  bool gate_timed_out = false;
};

class Timer {
 public:
  // l2_flush_bytes 0: no flush.
  Timer(cudaStream_t stream, int warmup, int reps, size_t l2_flush_bytes);

  // `launch` enqueues one repetition on the stream and throws BenchError on failure.
  Timing time(const std::function<void()>& launch);

  cudaStream_t stream() const { return stream_; }

 private:
  cudaStream_t stream_;
  int warmup_, reps_;
  DeviceBuffer flush_;
};

}  // namespace gpubench
