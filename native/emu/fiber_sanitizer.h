// What ThreadSanitizer and AddressSanitizer must be told about the emulator's
// fibers, in the sanitizer builds of the emulator (WORLDPM_EMU_SANITIZE; see
// docs/emulator.md, "Sanitizer builds"). In every other build each call here
// is an empty inline function.
//
// ThreadSanitizer: every CUDA thread is a TSan fiber, switched to without
// synchronisation, so two CUDA threads are unordered unless the kernel orders
// them. The only happens-before edges are the ones CUDA guarantees: the host's
// writes before a launch, a block barrier (every thread releases on arrival
// and acquires on leaving), a warp collective among its lanes, and the end of
// a launch (the host acquires every thread). The runtime's own bookkeeping is
// invisible to TSan (RuntimeScope): it is shared between the fibers of a
// block, which one OS thread runs in turn, and reporting it would drown every
// kernel race.
//
// AddressSanitizer: each switch between a fiber's stack and the scheduler's is
// announced, so ASan knows which stack is live when an exception unwinds.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define WPM_EMU_SANITIZED 1
#define WPM_EMU_SAN_FN(signature) signature;
#else
#define WPM_EMU_SANITIZED 0
#define WPM_EMU_SAN_FN(signature) \
  inline signature {}
#endif

namespace emu::san {

#if defined(__SANITIZE_THREAD__)
// A pooled stack would carry the shadow state of the fiber that used it
// before, so that fiber's accesses would race with the next one's; under TSan
// every fiber gets a fresh mapping (munmap clears the shadow).
inline constexpr bool kReuseStacks = false;
#else
inline constexpr bool kReuseStacks = true;
#endif

// One CUDA thread's fiber, as the sanitizers see it.
struct Fiber {
  void* tsan = nullptr;                  // its TSan context
  void* fake_stack = nullptr;            // ASan's fake stack while switched away
  const void* stack_bottom = nullptr;    // its own stack
  size_t stack_size = 0;
  const void* sched_bottom = nullptr;    // the scheduler's stack, to switch back to
  size_t sched_size = 0;
};

// The sync addresses of one launch: the host releases `start` before the
// blocks run and acquires `end` after they finish.
struct LaunchSync {
  char start = 0;
  char end = 0;
};

// The sync addresses of the block an OS thread runs. Each generation of the
// barrier, and of each warp's collective, uses one of two addresses in turn:
// with a single address a lane that ran ahead to the next barrier would hand
// its later writes to lanes still leaving the previous one. reset() takes
// fresh memory for every block, so no edge leads from one block to another.
class BlockSync {
 public:
  void reset(size_t warps) {
    if (!WPM_EMU_SANITIZED) return;
    cells_.reset(new char[2 + 2 * warps]());
    barrier_gen_ = 0;
    warp_gen_.assign(warps, 0);
  }
  const void* barrier() const { return cells_.get() + (barrier_gen_ & 1); }
  void barrier_done() { ++barrier_gen_; }
  const void* warp(size_t w) const { return cells_.get() + 2 + 2 * w + (w < warp_gen_.size() ? warp_gen_[w] & 1 : 0); }
  void warp_done(size_t w) {
    if (w < warp_gen_.size()) ++warp_gen_[w];
  }

 private:
  std::unique_ptr<char[]> cells_;
  unsigned barrier_gen_ = 0;
  std::vector<unsigned> warp_gen_;
};

// Outside the sanitizer builds the parameters below go unused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"

// ---- the scheduler's side (run on the OS thread's own stack)
// Around constructing the fiber: its creation runs briefly on the new stack.
WPM_EMU_SAN_FN(void fiber_creating(Fiber& f))
WPM_EMU_SAN_FN(void fiber_created(Fiber& f))
// The stack the fiber was given.
WPM_EMU_SAN_FN(void stack_allocated(Fiber& f, const void* top, size_t size))
// Just before resuming the fiber, and just after it parked or finished.
WPM_EMU_SAN_FN(void entering(Fiber& f))
WPM_EMU_SAN_FN(void left(Fiber& f, bool finished))
// A worker joins a new launch: the TSan contexts of the previous one may be reused.
WPM_EMU_SAN_FN(void launch_starting())

// ---- the fiber's side
// First thing it runs: it acquires the host's writes (launch start).
WPM_EMU_SAN_FN(void lane_started(Fiber& f, const LaunchSync& launch))
// Around the switch to the scheduler when it parks.
WPM_EMU_SAN_FN(void lane_parking(Fiber& f))
WPM_EMU_SAN_FN(void lane_resumed(Fiber& f))
// Last thing it runs: it releases its writes to the host (launch end).
WPM_EMU_SAN_FN(void lane_finishing(Fiber& f, const LaunchSync& launch))

// ---- happens-before edges and what TSan checks
WPM_EMU_SAN_FN(void release(const void* sync))
WPM_EMU_SAN_FN(void acquire(const void* sync))
// A read the runtime performs for the kernel (ldmatrix's row): checked as the calling thread's.
WPM_EMU_SAN_FN(void kernel_read(const void* p, size_t bytes))
// Runtime bookkeeping from here to the end of the scope is not checked (nests).
WPM_EMU_SAN_FN(void runtime_begin())
WPM_EMU_SAN_FN(void runtime_end())

#pragma GCC diagnostic pop

struct RuntimeScope {
  RuntimeScope() { runtime_begin(); }
  ~RuntimeScope() { runtime_end(); }
  RuntimeScope(const RuntimeScope&) = delete;
  RuntimeScope& operator=(const RuntimeScope&) = delete;
};

// Inside a RuntimeScope: the kernel's own accesses (its code, cp.async
// copies), checked again until the end of the scope.
struct KernelScope {
  KernelScope() { runtime_end(); }
  ~KernelScope() { runtime_begin(); }
  KernelScope(const KernelScope&) = delete;
  KernelScope& operator=(const KernelScope&) = delete;
};

}  // namespace emu::san

#undef WPM_EMU_SAN_FN
