// The kernel emulator's runtime: runs kernels/*.cu, compiled as C++ against
// kernels/include/kemu.h, on the CPU. The design is docs/emulator.md;
// this header is what the host side sees (launch, configuration, device
// memory with guard bytes) plus the few hooks kemu.h expands to. It lives in
// common/include because both sides include it: kemu.h (kernels/) and the
// runtime and the emu backend (native/emu, native/src/device).
//
// Execution model, in short:
// - launch() hands the grid to a persistent pool of `Config::threads` OS
//   threads; each runs one block at a time, taking block indices from a
//   shared counter. A block never leaves its OS thread.
// - Every CUDA thread of a block is a Boost.Context fiber with a pooled,
//   mmap'ed stack (Config::stack_bytes, 64 KiB by default, plus a PROT_NONE
//   guard page below it). Stacks are pooled per OS thread and never move.
// - A per-block scheduler resumes runnable fibers in the configured order
//   (forward, reverse, warp-greedy or seeded random); a fiber runs until it reaches a
//   barrier or a warp collective (both always yield) or exits.
// - __syncthreads is a block barrier; warp collectives are per-warp
//   rendezvous where the last lane to arrive performs the op for the warp.
// - Errors (divergent barrier, lane outside its mask, deadlock, an exception
//   from kernel code) are recorded per block; the block's other fibers are
//   resumed and unwound with a private exception type; launch() throws
//   LaunchError whose message starts with "file:line: ". The error of the
//   lowest-numbered failing block wins, so reports are reproducible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

// kernels.h's stream type: on the emulator a stream is null (launches run at once) or a LaunchQueue.
struct CUstream_st;

// CUDA's index types (the emulator's own; no CUDA header is involved).
struct uint3 { unsigned x, y, z; };
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace emu {

// greedy: the lowest runnable lane first, its warp running on as far as it can (see runtime.cpp).
enum class Order { forward, reverse, random, greedy };
// The order in which the pool takes blocks: ascending, descending, or a seeded permutation
// (Config::block_seed). A block that reads what another block of the same launch writes
// gives a different answer under one of them (exact with Config::threads = 1).
enum class BlockOrder { forward, reverse, random };
// The shared-memory limits a launch is checked against (docs/emulator.md, "Checks").
enum class Arch { sm_80, sm_90 };

// How mma.sync sums its products (docs/numerics.md, "Tensor-core accumulation"):
// exact: in double, rounded to float once; truncate: the tensor-core model
// (addends aligned to the largest with the bits below a 27-bit adder dropped,
// the sum truncated to fp32), two passes of 8 products per m16n8k16.
enum class MmaAccumulate { exact, truncate };

struct Config {
  int threads = 2;                  // OS threads that run blocks
  Order order = Order::forward;     // fiber resume order between barriers
  uint64_t seed = 0;                // for Order::random (mixed with the block index)
  bool strict = true;               // report barriers reached by only part of the block
  size_t stack_bytes = 64 << 10;    // per fiber, plus one guard page
  // cp.async delivery: true (default) copies only when a cp.async.wait_group
  // retires the copy's group, or at the lane's exit (the latest legal moment,
  // so a missing wait reads poison); false copies at issue (for comparison).
  bool defer_cp_async = true;
  MmaAccumulate mma = MmaAccumulate::exact;
  BlockOrder block_order = BlockOrder::forward;
  uint64_t block_seed = 0;          // for BlockOrder::random
  // sm_80 (the strictest supported): 163 KiB of static + dynamic shared memory per block;
  // sm_90: 227 KiB. Static (EMU_SHARED) is at most 48 KiB on both.
  Arch arch = Arch::sm_80;
  // A fiber that runs this long without reaching a barrier, a collective or its end is
  // reported as a spin-wait and the process aborts (a hang would never end); 0 disables.
  double watchdog_seconds = 60;
};

// The configuration the next launch uses. Before the first set_config it comes from the
// environment: WORLDPM_EMU_SCHEDULE (parse_schedule; default forward),
// WORLDPM_EMU_MMA=exact|truncate (default exact), WORLDPM_EMU_ARCH=sm_80|sm_90 and
// WORLDPM_EMU_WATCHDOG=SECONDS; a bad value makes every
// launch fail with a message naming it until set_config.
Config config();
void set_config(const Config& config);
// Parses a WORLDPM_EMU_SCHEDULE value, THREADS[,blocks=BLOCKS] with THREADS one of
// forward|reverse|greedy|random:SEED and BLOCKS one of forward|reverse|random:SEED, into
// config.order / seed / block_order / block_seed.
bool parse_schedule(const std::string& text, Config& config, std::string* error);
// Parses a WORLDPM_EMU_MMA value into config.mma.
bool parse_mma_accumulate(const std::string& text, Config& config, std::string* error);

class LaunchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "Device" memory for emulated kernels: host memory with guard bytes before
// and after each allocation, and poisoned (0xFF) contents. Every launch ends
// with check_guards(); an overrun fails the launch naming the allocation.
void* device_alloc(size_t bytes, const char* name = "");
void device_free(void* ptr);
// "" when every guard is intact; else one line per damaged allocation. Re-arms the guards.
std::string check_guards();

namespace detail {

// Where the scheduler points before resuming a fiber (read by kemu.h's macros).
extern thread_local const uint3* tl_thread_idx;
extern thread_local const uint3* tl_block_idx;
extern thread_local const dim3* tl_block_dim;
extern thread_local const dim3* tl_grid_dim;

enum class WarpOp : uint8_t {
  shfl, shfl_up, shfl_down, shfl_xor, ballot, syncwarp,
  // tensor-core and ldmatrix collectives (always the full warp)
  mma_f16, mma_bf16,
  ldmatrix_x1, ldmatrix_x2, ldmatrix_x4, ldmatrix_x1_trans, ldmatrix_x2_trans, ldmatrix_x4_trans,
};

void syncthreads(const char* file, int line);
// Every lane of `mask` hands in `value` (and the op's lane argument and width);
// the last to arrive computes everyone's result. Ballot: value is the predicate.
uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int arg, int width, const char* file,
                         int line);
// mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32 for the
// calling lane's warp (all 32 lanes must call it at the same site): every lane
// hands in its fragments a[4], b[2], c[4] (docs/emulator.md, "Fragment layouts") and
// gets its d[4]. d may alias c. Products are exact; the 16 products and c are
// summed as Config::mma says.
void warp_mma(bool bf16, float* d, const uint32_t* a, const uint32_t* b, const float* c, const char* file, int line);
// ldmatrix.sync.aligned.m8n8.{x1,x2,x4}[.trans].shared.b16: lanes 8j..8j+7 hand
// in the row addresses of matrix j (count = 1, 2 or 4); each lane gets count
// registers. Every address a lane < 8 * count provides must be 16-byte aligned
// and its 16 bytes must lie in this block's EMU_SHARED / dynamic shared memory.
void warp_ldmatrix(int count, bool trans, uint32_t* r, const void* row, const char* file, int line);
// cp.async.cg.shared.global [dst], [src], 16, src_bytes: queued on the calling
// lane (Config::defer_cp_async), src_bytes (0..16) read from src, the rest of
// the 16 bytes zero. dst must be 16 bytes of this block's shared memory, both
// 16-byte aligned, src not in shared memory.
void cp_async(void* dst, const void* src, int src_bytes, const char* file, int line);
// cp.async.commit_group: the lane's copies queued since the last commit form a group.
void cp_async_commit();
// cp.async.wait_group n: delivers every committed group of the lane but the newest n.
void cp_async_wait(int n);

// The block's buffer for an EMU_SHARED declaration (keyed by its site), poisoned on first use;
// a kernel error naming file:line when it takes the block over Config::arch's limits.
void* shared_slot(const void* site, size_t bytes, const char* file, int line);
// The block's dynamic shared memory: exactly dyn_smem bytes, poisoned.
void* dynamic_smem();
// Records an error for the running block from kernel code and unwinds the fiber.
[[noreturn]] void kernel_error(const std::string& message);
// A vector access (what, `bytes` wide) at p that is not aligned to its width: a kernel error naming file:line.
[[noreturn]] void misaligned_access(const char* what, int bytes, const void* p, const char* file, int line);
// kernel_launch_bounds(max_threads, min_blocks) at the top of a kernel (kemu.h): a block larger than
// max_threads is a kernel error naming file:line (CUDA refuses such a launch).
void check_launch_bounds(unsigned max_threads, unsigned min_blocks, const char* file, int line);
// The same call names the running kernel (its function's name) for the access counters.
void name_kernel(const char* function);
// A global (device_alloc) or shared-memory access of `bytes` at p by the running lane, from the kernels'
// compiler instrumentation (native/emu/memory_access_hooks.cpp); counted while a LaunchStatsLog exists,
// ignored for the lane's own stack and for host memory.
void count_memory_access(const void* p, size_t bytes, bool write);
// `flops` floating-point operations the running lane reports doing outside mma (kcount_flops in kemu.h).
void count_flops(uint64_t flops);
// The minimum bytes the next launch from this host thread must move (klaunch_min_bytes in kemu.h),
// and taking it back (0 when none was declared) as that launch starts.
void declare_min_bytes(uint64_t bytes);
uint64_t take_min_bytes();
// Or a function that works the minimum out when the launch runs (klaunch_min_bytes_at_run in kemu.h), after
// the launches before it on its stream: for a minimum that depends on device data. take_min_bytes() calls a
// declared one (only while launches are counted) and take_min_bytes_at_run() hands it over unevaluated, for a
// launch that runs later.
void declare_min_bytes_at_run(std::function<uint64_t()> bytes);
std::function<uint64_t()> take_min_bytes_at_run();

struct Thunk {
  void (*call)(const void* context);
  const void* context;
};
void launch(const Thunk& thunk, dim3 grid, dim3 block, size_t dyn_smem, uint64_t min_bytes = 0);

}  // namespace detail

// Runs kernel(args...) over grid x block. Throws LaunchError on any reported
// problem (bad configuration, kernel error, deadlock, guard bytes overrun).
template <class... P, class... A>
void launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "emu::launch: argument count differs from the kernel's");
  struct Call {
    void (*kernel)(P...);
    std::tuple<std::decay_t<P>...> params;
  };
  const Call call{kernel, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...)};
  // Each fiber gets its own by-value copies of the parameters, as each CUDA thread does.
  auto run = [](const void* context) {
    const Call& c = *static_cast<const Call*>(context);
    std::apply(c.kernel, c.params);
  };
  detail::launch(detail::Thunk{run, &call}, grid, block, dyn_smem, detail::take_min_bytes());
}

// A stream whose launches run later (the emu backend's deferred mode, WORLDPM_EMU_QUEUE=deferred):
// launch_on() hands it each launch, holding the kernel and by-value copies of its arguments, and its
// owner runs them in order at its synchronisation points, where a LaunchError surfaces as a CUDA
// kernel error does. Streams are LaunchQueues converted with stream(); there is no other kind.
class LaunchQueue {
 public:
  virtual void push(std::function<void()> launch) = 0;
  CUstream_st* stream() { return reinterpret_cast<CUstream_st*>(this); }
  static LaunchQueue* of(CUstream_st* stream) { return reinterpret_cast<LaunchQueue*>(stream); }

 protected:
  ~LaunchQueue() = default;
};

// launch() on a stream: at once on the null stream, else queued on the stream's LaunchQueue.
template <class... P, class... A>
void launch_on(CUstream_st* stream, void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem, A&&... args) {
  if (stream == nullptr) return launch(kernel, grid, block, dyn_smem, std::forward<A>(args)...);
  static_assert(sizeof...(P) == sizeof...(A), "emu::launch_on: argument count differs from the kernel's");
  std::tuple<std::decay_t<P>...> params(std::forward<A>(args)...);
  // Declared for this launch, not the one it runs after; a function of device data is called when it runs.
  std::function<uint64_t()> min_bytes_at_run = detail::take_min_bytes_at_run();
  const uint64_t min_bytes = detail::take_min_bytes();
  LaunchQueue::of(stream)->push([kernel, params, grid, block, dyn_smem, min_bytes, min_bytes_at_run] {
    if (min_bytes_at_run) detail::declare_min_bytes_at_run(min_bytes_at_run);
    else detail::declare_min_bytes(min_bytes);
    std::apply([&](const auto&... p) { launch(kernel, grid, block, dyn_smem, p...); }, params);
  });
}

// ---------------------------------------------------------------- access counters
// What one launch's warps asked of shared and global memory (docs/emulator.md, "Access counters"):
// the emulator sees a whole warp's addresses where the hardware would serve them together, so it can count
// what a profiler would, without timing anything. Counted only while a LaunchStatsLog exists.
struct LaunchStats {
  dim3 grid, block;
  size_t dyn_smem = 0;
  // ldmatrix: warp instructions; the shared-memory wavefronts they took, one 8-row phase per 8x8 matrix
  // (32 banks of 4 bytes: a 16-byte row covers one of 8 bank groups, and rows of a phase at different
  // addresses in the same group are served one after another); and the minimum, one per matrix.
  uint64_t ldmatrix = 0, ldmatrix_wavefronts = 0, ldmatrix_min_wavefronts = 0;
  // cp.async: warp instructions (the lanes' n-th copy from one call site since their warp last met at a
  // barrier or a full-warp collective); the 32-byte sectors of global memory they read; and the minimum
  // for the bytes they read (16 per instruction when all 32 lanes read 16 bytes).
  uint64_t cp_async = 0, cp_async_sectors = 0, cp_async_min_sectors = 0;

  // The work of the launch (docs/emulator.md, "Work counters"): bytes of global memory (device_alloc
  // allocations) and of shared memory each thread read and wrote, counted access by access with no cache
  // model (cp.async and ldmatrix included); tensor-core mma.sync instructions and their FLOPs (2 m n k);
  // other FLOPs, as the kernel reports them (kcount_flops). Global and shared bytes of plain accesses are
  // counted only where the kernels carry the access instrumentation (global_accesses_counted()).
  uint64_t global_read_bytes = 0, global_write_bytes = 0, shared_read_bytes = 0, shared_write_bytes = 0;
  uint64_t mma = 0, mma_flops = 0, other_flops = 0;
  // The kernel's name (from kernel_launch_bounds; "" when it has none) and the minimum bytes its launcher
  // declared it must move (klaunch_min_bytes: inputs read once, outputs written once; 0 when undeclared).
  const char* kernel = "";
  uint64_t min_bytes = 0;

  uint64_t bank_conflicts() const { return ldmatrix_wavefronts - ldmatrix_min_wavefronts; }
  uint64_t excess_sectors() const { return cp_async_sectors - cp_async_min_sectors; }
  uint64_t flops() const { return mma_flops + other_flops; }
  LaunchStats& operator+=(const LaunchStats& o);  // adds the counts and min_bytes (not grid, block, dyn_smem, kernel)
};

// Whether this build's kernels report their plain loads and stores to the counters (the emulator's own
// builds do; its sanitizer builds, whose instrumentation the access hooks would clash with, do not).
bool global_accesses_counted();
// Work done for a launch's stream outside the emulated kernels (the emu backend's GEMMs run on the CPU):
// recorded in the open LaunchStatsLog as a launch of its own, its counts as the caller states them.
void record_host_work(const LaunchStats& stats);

// Collects the LaunchStats of every launch that finishes without error while it exists, in launch order.
// Launches count only while one exists (counting costs time); at most one exists at a time (a second
// throws std::logic_error).
class LaunchStatsLog {
 public:
  LaunchStatsLog();
  ~LaunchStatsLog();
  LaunchStatsLog(const LaunchStatsLog&) = delete;
  LaunchStatsLog& operator=(const LaunchStatsLog&) = delete;
  std::vector<LaunchStats> launches() const;
  // The counts of launches() added up.
  LaunchStats total() const;
};

}  // namespace emu
