#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

namespace wpm {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(threads, 1); ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::chunk_bounds(int64_t n, int count, int i, int64_t* begin, int64_t* end) {
  int64_t base = n / count, extra = n % count;
  *begin = i * base + std::min<int64_t>(i, extra);
  *end = *begin + base + (i < extra ? 1 : 0);
}

int ThreadPool::chunk_count(int64_t n, int64_t min_chunk) const {
  int64_t by_size = std::max<int64_t>(1, n / std::max<int64_t>(1, min_chunk));
  return int(std::min<int64_t>(size(), by_size));
}

void ThreadPool::parallel_for(int64_t n, int64_t min_chunk, const Chunk& fn) {
  if (n <= 0) return;
  int chunks = chunk_count(n, min_chunk);
  if (chunks == 1) {
    fn(0, n, 0);
    return;
  }
  std::lock_guard<std::mutex> call(call_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    job_chunks_ = chunks;
    pending_ = chunks - 1;
    ++generation_;
  }
  wake_.notify_all();
  int64_t begin, end;
  chunk_bounds(n, chunks, 0, &begin, &end);
  fn(begin, end, 0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::parallel_items(int64_t n, const Item& fn) {
  std::atomic<int64_t> next{0};
  // One chunk per worker (at most n of them); each chunk then claims items until none are left.
  parallel_for(std::min<int64_t>(n, size()), 1, [&](int64_t, int64_t, int worker) {
    for (int64_t item = next.fetch_add(1, std::memory_order_relaxed); item < n;
         item = next.fetch_add(1, std::memory_order_relaxed))
      fn(item, worker);
  });
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    const Chunk* job;
    int64_t n;
    int chunks;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      n = job_n_;
      chunks = job_chunks_;
    }
    if (index < chunks) {
      int64_t begin, end;
      chunk_bounds(n, chunks, index, &begin, &end);
      (*job)(begin, end, index);  // op bodies do not throw: they are plain arithmetic
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

}  // namespace wpm
