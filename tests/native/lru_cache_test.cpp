// The bounded cache behind the cuda backend's cuBLASLt plans (native/src/lru_cache.h) and the key that decides
// which GEMMs share a plan (native/src/gemm_plan_key.h): plain C++, tested without CUDA.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "gemm_plan_key.h"
#include "lru_cache.h"

namespace {

using wpm::GemmArgs;
using wpm::GemmPlanKey;
using wpm::GemmPlanKeyHash;
using wpm::LruCache;

TEST(LruCache, FindsWhatWasInsertedAndNothingElse) {
  LruCache<int, std::string> cache(4);
  cache.insert(1, "one");
  cache.insert(2, "two");
  ASSERT_NE(cache.find(1), nullptr);
  EXPECT_EQ(*cache.find(1), "one");
  EXPECT_EQ(*cache.find(2), "two");
  EXPECT_EQ(cache.find(3), nullptr);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(LruCache, DropsTheLeastRecentlyUsedWhenFull) {
  LruCache<int, int> cache(3);
  cache.insert(1, 10);
  cache.insert(2, 20);
  cache.insert(3, 30);
  ASSERT_NE(cache.find(1), nullptr);  // 1 is now the most recent; 2 the least
  cache.insert(4, 40);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find(2), nullptr);
  EXPECT_NE(cache.find(1), nullptr);
  EXPECT_NE(cache.find(3), nullptr);
  EXPECT_NE(cache.find(4), nullptr);
  cache.insert(5, 50);  // the finds above left the order 4 3 1: 1 goes
  EXPECT_EQ(cache.find(1), nullptr);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(LruCache, ReinsertingAKeyReplacesItsValueWithoutGrowing) {
  LruCache<int, int> cache(2);
  cache.insert(1, 10);
  cache.insert(1, 11);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(*cache.find(1), 11);
}

// Values are destroyed when dropped and when the cache goes: what releases a plan's descriptors.
TEST(LruCache, DestroysDroppedValuesAndTheRestWithTheCache) {
  auto alive = std::make_shared<int>(0);
  struct Counted {
    std::shared_ptr<int> alive;
    explicit Counted(std::shared_ptr<int> a) : alive(std::move(a)) { ++*alive; }
    Counted(Counted&& o) noexcept : alive(o.alive) { ++*alive; }
    Counted(const Counted&) = delete;
    ~Counted() { --*alive; }
  };
  {
    LruCache<int, Counted> cache(2);
    for (int i = 0; i < 5; ++i) cache.insert(i, Counted(alive));
    EXPECT_EQ(*alive, 2);
    cache.clear();
    EXPECT_EQ(*alive, 0);
    cache.insert(9, Counted(alive));
    EXPECT_EQ(*alive, 1);
  }
  EXPECT_EQ(*alive, 0);
}

alignas(256) unsigned char memory[4096];

GemmArgs base_gemm() {
  GemmArgs g{};
  g.m = 8;
  g.n = 16;
  g.k = 32;
  g.batch = 1;
  g.alpha = 1;
  g.a = memory;
  g.b = memory + 1024;
  g.c = memory + 2048;
  g.lda = 32;
  g.ldb = 16;
  g.ldc = 16;
  g.dtype = WPM_F32;
  return g;
}

TEST(GemmPlanKey, IgnoresScalarsAndWhereEquallyAlignedOperandsLie) {
  GemmArgs a = base_gemm(), b = base_gemm();
  b.alpha = 3;
  b.beta = 1;
  b.a = memory + 256;
  b.c = memory + 3072;
  EXPECT_TRUE(GemmPlanKey::of(a) == GemmPlanKey::of(b));
  EXPECT_EQ(GemmPlanKeyHash()(GemmPlanKey::of(a)), GemmPlanKeyHash()(GemmPlanKey::of(b)));
}

TEST(GemmPlanKey, TellsApartEveryShapeDTypeTransposeAndAlignment) {
  const GemmPlanKey base = GemmPlanKey::of(base_gemm());
  std::vector<void (*)(GemmArgs&)> changes = {
      [](GemmArgs& g) { g.m = 9; },          [](GemmArgs& g) { g.n = 17; },
      [](GemmArgs& g) { g.k = 33; },         [](GemmArgs& g) { g.batch = 2; },
      [](GemmArgs& g) { g.lda = 40; },       [](GemmArgs& g) { g.ldb = 20; },
      [](GemmArgs& g) { g.ldc = 24; },       [](GemmArgs& g) { g.stride_a = 256; },
      [](GemmArgs& g) { g.stride_b = 512; }, [](GemmArgs& g) { g.stride_c = 128; },
      [](GemmArgs& g) { g.dtype = WPM_BF16; }, [](GemmArgs& g) { g.dtype = WPM_F16; },
      [](GemmArgs& g) { g.trans_a = true; }, [](GemmArgs& g) { g.trans_b = true; },
      [](GemmArgs& g) { g.a = memory + 4; }, [](GemmArgs& g) { g.b = memory + 1024 + 16; },
      [](GemmArgs& g) { g.c = memory + 2048 + 2; }};
  LruCache<GemmPlanKey, int, GemmPlanKeyHash> cache(changes.size() + 1);
  cache.insert(base, -1);
  for (size_t i = 0; i < changes.size(); ++i) {
    GemmArgs g = base_gemm();
    changes[i](g);
    const GemmPlanKey key = GemmPlanKey::of(g);
    EXPECT_FALSE(key == base) << "change " << i;
    EXPECT_EQ(cache.find(key), nullptr) << "change " << i;
    cache.insert(key, int(i));
  }
  EXPECT_EQ(cache.size(), changes.size() + 1);
}

TEST(GemmPlanKey, AlignmentIsTheLargestPowerOfTwoUpTo256DividingTheAddress) {
  EXPECT_EQ(wpm::pointer_alignment(memory), 256u);
  EXPECT_EQ(wpm::pointer_alignment(memory + 512), 256u);
  EXPECT_EQ(wpm::pointer_alignment(memory + 128), 128u);
  EXPECT_EQ(wpm::pointer_alignment(memory + 6), 2u);
  EXPECT_EQ(wpm::pointer_alignment(memory + 1), 1u);
}

}  // namespace
