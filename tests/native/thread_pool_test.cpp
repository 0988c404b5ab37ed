// ThreadPool::parallel_items (native/src/cpu/thread_pool.h): every item runs
// exactly once on a valid worker, for any pool size and item count.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "cpu/thread_pool.h"

namespace {

TEST(ThreadPool, ParallelItemsRunsEveryItemOnce) {
  for (int threads : {1, 2, 4}) {
    wpm::ThreadPool pool(threads);
    for (int64_t n : {0, 1, 3, 257}) {
      std::vector<std::atomic<int>> runs(static_cast<size_t>(n));
      std::atomic<bool> bad_worker{false};
      pool.parallel_items(n, [&](int64_t item, int worker) {
        if (worker < 0 || worker >= pool.size()) bad_worker = true;
        runs[size_t(item)].fetch_add(1);
      });
      EXPECT_FALSE(bad_worker) << threads << " threads, " << n << " items";
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(runs[size_t(i)].load(), 1) << "item " << i << " of " << n;
    }
  }
}

}  // namespace
