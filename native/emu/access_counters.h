// The emulator's access counters (emu::LaunchStats): shared-memory bank conflicts of
// ldmatrix and global-memory sectors of cp.async, per warp instruction, as a
// profiler would count them on the GPU; and the launch's work: bytes each thread
// moves, mma instructions, reported FLOPs. The runtime feeds one AccessCounters per
// running block from the warp rendezvous, the cp.async issue and the kernels'
// access hooks, tells it where a warp or the block synchronises, and adds each
// block's totals to its launch.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "emu.h"

namespace emu::detail {

class AccessCounters {
 public:
  // Forgets everything (a new block of `threads` threads).
  void start_block(unsigned threads);
  // One ldmatrix of `matrices` 8x8 matrices: rows[8j + r] is row r of matrix j (16 bytes of shared memory).
  void ldmatrix(const void* const* rows, int matrices);
  // One lane's cp.async reading `bytes` (0..16) at src, issued at file:line.
  void cp_async(unsigned thread, const void* src, int bytes, const char* file, int line);
  // Every lane of `warp` (or of the block) has met: their copies since the last meeting are grouped into
  // warp instructions and counted.
  void warp_synchronised(unsigned warp);
  // One thread's access of `bytes` to global or shared memory.
  void global_access(size_t bytes, bool write) { (write ? totals_.global_write_bytes : totals_.global_read_bytes) += bytes; }
  void shared_access(size_t bytes, bool write) { (write ? totals_.shared_write_bytes : totals_.shared_read_bytes) += bytes; }
  // One warp's mma.sync.m16n8k16.
  void mma();
  void flops(uint64_t n) { totals_.other_flops += n; }
  // The running kernel's name (a string literal), kept for the launch.
  void name_kernel(const char* function) { totals_.kernel = function; }
  void block_synchronised();
  // Counts what is pending, adds the block's totals to `stats` and clears them.
  void add_to(LaunchStats& stats);

 private:
  struct Copy {
    uint32_t seq;      // the lane's how-manieth copy since its warp last met
    uint32_t line;
    const char* file;  // a string literal: one call site, one pointer
    uintptr_t address;
    int bytes;
  };
  std::vector<uint32_t> seq_;             // per thread
  std::vector<std::vector<Copy>> copies_;  // per warp, since it last met
  LaunchStats totals_;
};

// Whether launches should count (a LaunchStatsLog exists), and where a finished launch's counts go.
bool launch_stats_wanted();
// The same, read on every instrumented access: a relaxed load and nothing more while no log is open.
extern std::atomic<bool> g_launch_stats_wanted;
void record_launch_stats(const LaunchStats& stats);

}  // namespace emu::detail
