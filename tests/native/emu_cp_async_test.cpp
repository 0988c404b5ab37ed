// cp_async.cuh under the emulator: deferred delivery (a copy lands only when a
// wait_group retires its group: before that, shared memory still reads poison),
// wait_group<1> leaving the newest group pending, uncommitted copies not retired
// by a wait, zero-fill, the eager mode for comparison, a missing wait caught by
// poisoned reads in every schedule, and bad addresses reported with file:line.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cp_async.cuh"
#include "emu_test_util.h"

namespace {

using emu_test::ConfigScope;
using emu_test::schedules;

struct Chunk {
  uint8_t b[16];
  bool operator==(const Chunk& o) const { return std::memcmp(b, o.b, 16) == 0; }
};
const Chunk kPoison = [] {
  Chunk c;
  std::memset(c.b, 0xFF, 16);
  return c;
}();

// n chunks of the copies' source in emulated device memory (cp.async reads only live device allocations).
class Source {
 public:
  explicit Source(size_t n) : chunks_(static_cast<Chunk*>(emu::device_alloc(n * sizeof(Chunk), "cp.async source"))) {
    for (size_t i = 0; i < n; ++i)
      for (int k = 0; k < 16; ++k) chunks_[i].b[k] = uint8_t(i * 16 + k + 1);  // never 0xFF for i < 15
  }
  ~Source() { emu::device_free(chunks_); }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;
  const Chunk* data() const { return chunks_; }
  const Chunk& operator[](size_t i) const { return chunks_[i]; }

 private:
  Chunk* chunks_;
};

emu::Config eager() {
  emu::Config c = emu::config();
  c.defer_cp_async = false;
  return c;
}

// Two groups per lane (chunk lane, then chunk 32 + lane), each lane reading only
// its own chunks: out[lane * 6 + k] = {g0, g1} before any wait, after
// wait_group<1>, after wait_group<0>.
__global__ void groups_kernel(const Chunk* src, Chunk* out) {
  Chunk* s = emu_dynamic_smem<Chunk>();
  const int l = threadIdx.x;
  cp_async_16(&s[l], &src[l]);
  cp_async_commit();
  cp_async_16(&s[32 + l], &src[32 + l]);
  cp_async_commit();
  out[l * 6 + 0] = s[l];
  out[l * 6 + 1] = s[32 + l];
  cp_async_wait<1>();
  out[l * 6 + 2] = s[l];
  out[l * 6 + 3] = s[32 + l];
  cp_async_wait<0>();
  out[l * 6 + 4] = s[l];
  out[l * 6 + 5] = s[32 + l];
}

TEST(EmuCpAsync, DataLandsOnlyWhenWaitGroupRetiresItsGroup) {
  const Source src(64);
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<Chunk> out(32 * 6);
    emu::launch(groups_kernel, dim3(2), dim3(32), 64 * 16, src.data(), out.data());
    for (int l = 0; l < 32; ++l) {
      EXPECT_EQ(out[l * 6 + 0], kPoison) << s.name << " lane " << l << ": group 0 visible before any wait";
      EXPECT_EQ(out[l * 6 + 1], kPoison) << s.name << " lane " << l << ": group 1 visible before any wait";
      EXPECT_EQ(out[l * 6 + 2], src[l]) << s.name << " lane " << l << ": wait_group<1> did not retire group 0";
      EXPECT_EQ(out[l * 6 + 3], kPoison) << s.name << " lane " << l << ": wait_group<1> retired the newest group";
      EXPECT_EQ(out[l * 6 + 4], src[l]) << s.name << " lane " << l;
      EXPECT_EQ(out[l * 6 + 5], src[32 + l]) << s.name << " lane " << l;
    }
  }
}

TEST(EmuCpAsync, EagerModeCopiesAtIssue) {
  const Source src(64);
  ConfigScope scope;
  scope.set(eager());
  std::vector<Chunk> out(32 * 6);
  emu::launch(groups_kernel, dim3(1), dim3(32), 64 * 16, src.data(), out.data());
  for (int l = 0; l < 32; ++l)
    for (int k = 0; k < 6; ++k) EXPECT_EQ(out[l * 6 + k], src[l + (k % 2) * 32]) << "lane " << l << " read " << k;
}

// A copy not yet committed belongs to no group: wait_group 0 does not wait for it (PTX).
__global__ void uncommitted_kernel(const Chunk* src, Chunk* out) {
  Chunk* s = emu_dynamic_smem<Chunk>();
  const int l = threadIdx.x;
  cp_async_16(&s[l], &src[l]);
  cp_async_wait<0>();
  out[l * 2] = s[l];
  cp_async_commit();
  cp_async_wait<0>();
  out[l * 2 + 1] = s[l];
}

TEST(EmuCpAsync, WaitGroupDoesNotRetireUncommittedCopies) {
  const Source src(32);
  std::vector<Chunk> out(64);
  emu::launch(uncommitted_kernel, dim3(1), dim3(32), 32 * 16, src.data(), out.data());
  for (int l = 0; l < 32; ++l) {
    EXPECT_EQ(out[l * 2], kPoison) << "lane " << l;
    EXPECT_EQ(out[l * 2 + 1], src[l]) << "lane " << l;
  }
}

// Lane l copies l % 17 bytes (0..16) of its chunk and zero-fills the rest.
__global__ void zfill_kernel(const Chunk* src, Chunk* out) {
  Chunk* s = emu_dynamic_smem<Chunk>();
  const int l = threadIdx.x;
  cp_async_16_zfill(&s[l], &src[l], l % 17);
  cp_async_commit();
  cp_async_wait<0>();
  out[l] = s[l];
}

TEST(EmuCpAsync, ZfillPadsWithZeros) {
  const Source src(32);
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<Chunk> out(32, kPoison);
    emu::launch(zfill_kernel, dim3(1), dim3(32), 32 * 16, src.data(), out.data());
    for (int l = 0; l < 32; ++l)
      for (int k = 0; k < 16; ++k)
        ASSERT_EQ(out[l].b[k], k < l % 17 ? src[l].b[k] : 0) << s.name << " lane " << l << " byte " << k;
  }
}

// 64 threads stage chunks, then each reads its neighbour's: with the wait,
// right in every schedule; without it (a bug), the data has not landed.
template <bool kWait>
__global__ void neighbour_kernel(const Chunk* src, Chunk* out) {
  Chunk* s = emu_dynamic_smem<Chunk>();
  const int t = threadIdx.x;
  cp_async_16(&s[t], &src[blockIdx.x * 64 + t]);
  cp_async_commit();
  if (kWait) cp_async_wait<0>();
  __syncthreads();
  out[blockIdx.x * 64 + t] = s[(t + 1) % 64];
  __syncthreads();  // no thread exits (delivering its pending copy) before every thread has read
}

TEST(EmuCpAsync, MissingWaitReadsPoisonInEverySchedule) {
  const Source src(128);
  for (const auto& s : schedules()) {
    ConfigScope scope(s);
    std::vector<Chunk> good(128), bad(128);
    emu::launch(neighbour_kernel<true>, dim3(2), dim3(64), 64 * 16, src.data(), good.data());
    emu::launch(neighbour_kernel<false>, dim3(2), dim3(64), 64 * 16, src.data(), bad.data());
    for (int b = 0; b < 2; ++b)
      for (int t = 0; t < 64; ++t) {
        EXPECT_EQ(good[b * 64 + t], src[b * 64 + (t + 1) % 64]) << s.name << " block " << b << " thread " << t;
        EXPECT_EQ(bad[b * 64 + t], kPoison) << s.name << " block " << b << " thread " << t << ": missing wait hidden";
      }
  }
  // The eager mode (copies at issue) hides the missing wait: the comparison the deferred mode exists for.
  ConfigScope scope;
  scope.set(eager());
  std::vector<Chunk> bad(128);
  emu::launch(neighbour_kernel<false>, dim3(2), dim3(64), 64 * 16, src.data(), bad.data());
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 64; ++t) EXPECT_EQ(bad[b * 64 + t], src[b * 64 + (t + 1) % 64]);
}

// Copies still pending at a lane's exit are performed then (no crash, no report).
__global__ void pending_at_exit_kernel(const Chunk* src) {
  Chunk* s = emu_dynamic_smem<Chunk>();
  cp_async_16(&s[threadIdx.x], &src[threadIdx.x]);
  cp_async_commit();
}

TEST(EmuCpAsync, PendingCopiesAtExitAreHarmless) {
  const Source src(32);
  EXPECT_EQ(emu_test::launch_error([&] { emu::launch(pending_at_exit_kernel, dim3(3), dim3(32), 32 * 16, src.data()); }),
            "");
}

// ---- errors, each reported at its call site
enum class Bad { global_dst, misaligned_dst, misaligned_src, shared_src, too_many_bytes };
constexpr int kBadLine = __LINE__ + 10;
template <Bad kBad>
__global__ void bad_kernel(const Chunk* src, Chunk* global_dst) {
  Chunk* s = emu_dynamic_smem<Chunk>();
  const int l = threadIdx.x;
  void* dst = kBad == Bad::global_dst ? static_cast<void*>(&global_dst[l])
              : kBad == Bad::misaligned_dst ? static_cast<void*>(reinterpret_cast<char*>(&s[l]) + 8)
                                            : static_cast<void*>(&s[l]);
  const void* from = kBad == Bad::misaligned_src ? static_cast<const void*>(reinterpret_cast<const char*>(&src[l]) + 4)
                     : kBad == Bad::shared_src   ? static_cast<const void*>(&s[32 + l]) : static_cast<const void*>(&src[l]);
  cp_async_16_zfill(dst, from, kBad == Bad::too_many_bytes ? 17 : 16);
  cp_async_commit();
  cp_async_wait<0>();
}

template <Bad kBad>
std::string bad_error() {
  emu_test::DeviceArray src(kdtype::f32, 32 * 4 + 4), dst(kdtype::f32, 32 * 4);
  return emu_test::launch_error([&] {
    emu::launch(bad_kernel<kBad>, dim3(1), dim3(32), 64 * 16, src.as<const Chunk>(), dst.as<Chunk>());
  });
}

TEST(EmuCpAsync, BadAddressesAreReportedWithFileAndLine) {
  const std::string site = "emu_cp_async_test.cpp:" + std::to_string(kBadLine) + ": cp.async";
  const std::pair<std::string, std::string> cases[] = {
      {bad_error<Bad::global_dst>(), "dst is not in this block's shared memory"},
      {bad_error<Bad::misaligned_dst>(), "16-byte aligned"},
      {bad_error<Bad::misaligned_src>(), "16-byte aligned"},
      {bad_error<Bad::shared_src>(), "src is in shared memory"},
      {bad_error<Bad::too_many_bytes>(), "source size 17"},
  };
  for (const auto& [error, what] : cases) {
    EXPECT_NE(error.find(site), std::string::npos) << error;
    EXPECT_NE(error.find(what), std::string::npos) << error;
  }
}

}  // namespace
