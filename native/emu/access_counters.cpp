#include "access_counters.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <tuple>

namespace emu {

namespace {

constexpr int kRowsPerPhase = 8;   // ldmatrix serves one 8x8 matrix (8 rows of 16 bytes) per phase
constexpr int kBankGroups = 8;     // 32 banks of 4 bytes: 128 bytes a wavefront, 8 groups of 16
constexpr uintptr_t kSector = 32;  // bytes of global memory per sector

struct LogState {
  std::mutex mutex;
  bool open = false;
  std::vector<LaunchStats> launches;
};

LogState& log_state() {
  static LogState s;
  return s;
}

}  // namespace

namespace detail {
std::atomic<bool> g_launch_stats_wanted{false};
}  // namespace detail
using detail::g_launch_stats_wanted;

LaunchStats& LaunchStats::operator+=(const LaunchStats& o) {
  ldmatrix += o.ldmatrix;
  ldmatrix_wavefronts += o.ldmatrix_wavefronts;
  ldmatrix_min_wavefronts += o.ldmatrix_min_wavefronts;
  cp_async += o.cp_async;
  cp_async_sectors += o.cp_async_sectors;
  cp_async_min_sectors += o.cp_async_min_sectors;
  global_read_bytes += o.global_read_bytes;
  global_write_bytes += o.global_write_bytes;
  shared_read_bytes += o.shared_read_bytes;
  shared_write_bytes += o.shared_write_bytes;
  mma += o.mma;
  mma_flops += o.mma_flops;
  other_flops += o.other_flops;
  min_bytes += o.min_bytes;
  return *this;
}

LaunchStatsLog::LaunchStatsLog() {
  LogState& s = log_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.open) throw std::logic_error("emu::LaunchStatsLog: another one already exists (one at a time)");
  s.open = true;
  s.launches.clear();
  g_launch_stats_wanted = true;
}

LaunchStatsLog::~LaunchStatsLog() {
  LogState& s = log_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  g_launch_stats_wanted = false;
  s.open = false;
  s.launches.clear();
}

std::vector<LaunchStats> LaunchStatsLog::launches() const {
  LogState& s = log_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.launches;
}

LaunchStats LaunchStatsLog::total() const {
  LaunchStats sum;
  for (const LaunchStats& l : launches()) sum += l;
  return sum;
}

// WORLDPM_EMU_ACCESS_HOOKS: cmake/Emulator.cmake built the kernels with memory_access_hooks.cpp's instrumentation.
bool global_accesses_counted() {
#if defined(WORLDPM_EMU_ACCESS_HOOKS)
  return true;
#else
  return false;
#endif
}

void record_host_work(const LaunchStats& stats) {
  if (g_launch_stats_wanted) detail::record_launch_stats(stats);
}

namespace detail {

bool launch_stats_wanted() { return g_launch_stats_wanted; }

void record_launch_stats(const LaunchStats& stats) {
  LogState& s = log_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.open) s.launches.push_back(stats);
}

void AccessCounters::start_block(unsigned threads) {
  seq_.assign(threads, 0);
  copies_.resize((threads + 31) / 32);
  for (auto& c : copies_) c.clear();
  totals_ = LaunchStats{};
}

// Per phase (matrix), the rows at distinct addresses that share a bank group are served one wavefront
// each; the same address in several rows is one broadcast. Host buffers are 64-byte aligned where the
// GPU's are 128: that shifts every row of a buffer by the same bank groups, which changes no count.
void AccessCounters::ldmatrix(const void* const* rows, int matrices) {
  ++totals_.ldmatrix;
  totals_.ldmatrix_min_wavefronts += uint64_t(matrices);
  totals_.shared_read_bytes += uint64_t(matrices) * kRowsPerPhase * 16;
  for (int j = 0; j < matrices; ++j) {
    uintptr_t seen[kRowsPerPhase];
    int distinct = 0, per_group[kBankGroups] = {};
    for (int r = 0; r < kRowsPerPhase; ++r) {
      const uintptr_t a = reinterpret_cast<uintptr_t>(rows[kRowsPerPhase * j + r]);
      if (std::find(seen, seen + distinct, a) != seen + distinct) continue;
      seen[distinct++] = a;
      ++per_group[(a >> 4) % kBankGroups];
    }
    totals_.ldmatrix_wavefronts += uint64_t(*std::max_element(per_group, per_group + kBankGroups));
  }
}

void AccessCounters::cp_async(unsigned thread, const void* src, int bytes, const char* file, int line) {
  totals_.global_read_bytes += uint64_t(bytes);
  totals_.shared_write_bytes += 16;  // the rest of the 16 bytes is zero-filled
  copies_[thread / 32].push_back(
      Copy{seq_[thread]++, uint32_t(line), file, reinterpret_cast<uintptr_t>(src), bytes});
}

// A warp instruction is the copies of one (sequence number, call site); its sectors are the distinct
// 32-byte sectors its lanes read (a 16-byte aligned copy lies in one), its minimum the bytes of its
// distinct addresses over 32, rounded up.
void AccessCounters::warp_synchronised(unsigned warp) {
  std::vector<Copy>& copies = copies_[warp];
  if (copies.empty()) return;
  auto key = [](const Copy& c) { return std::make_tuple(c.seq, c.file, c.line); };
  std::sort(copies.begin(), copies.end(), [&](const Copy& a, const Copy& b) {
    return std::make_tuple(a.seq, a.file, a.line, a.address) < std::make_tuple(b.seq, b.file, b.line, b.address);
  });
  for (size_t i = 0; i < copies.size();) {
    size_t end = i;
    uint64_t sectors = 0, bytes = 0;
    const Copy* last = nullptr;  // the last copy counted; sorted, so equal addresses and sectors are adjacent
    for (; end < copies.size() && key(copies[end]) == key(copies[i]); ++end) {
      const Copy& c = copies[end];
      if (c.bytes == 0) continue;  // a zero-filling copy reads nothing
      if (last && c.address == last->address) continue;
      bytes += uint64_t(c.bytes);
      if (!last || c.address / kSector != last->address / kSector) ++sectors;
      last = &c;
    }
    ++totals_.cp_async;
    totals_.cp_async_sectors += sectors;
    totals_.cp_async_min_sectors += (bytes + kSector - 1) / kSector;
    i = end;
  }
  copies.clear();
  const size_t first = size_t(warp) * 32, last = std::min(first + 32, seq_.size());
  std::fill(seq_.begin() + long(first), seq_.begin() + long(last), 0u);
}

// m16n8k16: 16 x 8 outputs of 16 multiply-adds each.
void AccessCounters::mma() {
  constexpr uint64_t kFlops = 2 * 16 * 8 * 16;
  ++totals_.mma;
  totals_.mma_flops += kFlops;
}

void AccessCounters::block_synchronised() {
  for (unsigned w = 0; w < copies_.size(); ++w) warp_synchronised(w);
}

void AccessCounters::add_to(LaunchStats& stats) {
  block_synchronised();
  stats += totals_;
  if (*totals_.kernel && !*stats.kernel) stats.kernel = totals_.kernel;
  totals_ = LaunchStats{};
}

}  // namespace detail
}  // namespace emu
