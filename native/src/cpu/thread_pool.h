// The CPU backend's one thread pool. parallel_for splits [0, n) into one
// contiguous chunk per worker in a fixed way, so a reduction that combines
// per-chunk partial results in chunk order is deterministic for a given
// thread count. The calling thread runs chunk 0 itself.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wpm {

class ThreadPool {
 public:
  using Chunk = std::function<void(int64_t begin, int64_t end, int worker)>;
  using Item = std::function<void(int64_t item, int worker)>;

  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Runs fn over [0, n) in at most size() chunks of at least min_chunk items
  // (fewer chunks when n is small, so tiny ops do not pay for wake-ups).
  void parallel_for(int64_t n, int64_t min_chunk, const Chunk& fn);

  // Runs fn(item, worker) for every item of [0, n), each claimed in increasing order by whichever worker
  // is free next. For items of uneven cost, or cores shared with other processes: no worker idles while
  // a preempted one still holds a fixed share. Only for work whose result does not depend on which
  // worker ran which item (worker picks per-worker scratch, nothing else).
  void parallel_items(int64_t n, const Item& fn);

  // The chunk bounds parallel_for would use: chunk i of count is [begin, end).
  static void chunk_bounds(int64_t n, int count, int i, int64_t* begin, int64_t* end);
  int chunk_count(int64_t n, int64_t min_chunk) const;

 private:
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const Chunk* job_ = nullptr;
  int64_t job_n_ = 0;
  int job_chunks_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::mutex call_mutex_;  // one parallel_for at a time per pool
};

}  // namespace wpm
