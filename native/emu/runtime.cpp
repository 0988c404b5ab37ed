// The emulator's scheduler: worker pool, fibers, block barrier, warp
// collectives, per-block shared memory and error reporting (emu.h says what
// each piece guarantees; docs/emulator.md why it is built this way).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/context/fiber.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "access_counters.h"
#include "arch_limits.h"
#include "block_order.h"
#include "device_range.h"
#include "emu.h"
#include "fiber_sanitizer.h"
#include "half.h"
#include "mma_accumulate.h"
#include "watchdog.h"

namespace emu {

namespace detail {
thread_local const uint3* tl_thread_idx = nullptr;
thread_local const uint3* tl_block_idx = nullptr;
thread_local const dim3* tl_block_dim = nullptr;
thread_local const dim3* tl_grid_dim = nullptr;
}  // namespace detail

namespace {

namespace bctx = boost::context;
using detail::WarpOp;

// ---------------------------------------------------------------- configuration

struct ConfigState {
  std::mutex mutex;
  Config config;
  std::string env_error;  // a bad WORLDPM_EMU_SCHEDULE or WORLDPM_EMU_MMA, until set_config replaces it

  ConfigState() {
    if (const char* env = std::getenv("WORLDPM_EMU_SCHEDULE")) {
      std::string error;
      if (!parse_schedule(env, config, &error)) env_error = "WORLDPM_EMU_SCHEDULE: " + error;
    }
    if (const char* env = std::getenv("WORLDPM_EMU_MMA")) {
      std::string error;
      if (!parse_mma_accumulate(env, config, &error) && env_error.empty()) env_error = "WORLDPM_EMU_MMA: " + error;
    }
    if (const char* env = std::getenv("WORLDPM_EMU_ARCH")) {
      const std::string arch = env;
      if (arch == "sm_80" || arch == "sm_90") {
        config.arch = arch == "sm_90" ? Arch::sm_90 : Arch::sm_80;
      } else {
        env_error = "WORLDPM_EMU_ARCH: bad value '" + arch + "' (expected sm_80 or sm_90)";
      }
    }
    if (const char* env = std::getenv("WORLDPM_EMU_WATCHDOG")) {
      char* end = nullptr;
      const double seconds = std::strtod(env, &end);
      if (end != env && *end == '\0' && seconds >= 0) {
        config.watchdog_seconds = seconds;
      } else {
        env_error = "WORLDPM_EMU_WATCHDOG: bad value '" + std::string(env) + "' (expected seconds >= 0; 0 disables)";
      }
    }
  }
};

ConfigState& config_state() {
  static ConfigState state;
  return state;
}

// ---------------------------------------------------------------- fiber stacks

// mmap'ed stacks with a PROT_NONE guard page below, kept per OS thread: a
// stack is never handed to another thread (docs/emulator.md, "Pitfalls"), and
// creating a guarded stack costs microseconds, so they are reused.
class StackPool {
 public:
  ~StackPool() {
    for (auto& s : free_) munmap(static_cast<char*>(s.sp) - s.size - page(), s.size + page());
  }
  bctx::stack_context allocate(size_t size) {
    if (size != size_) {  // the configured size changed: drop the old stacks
      for (auto& s : free_) munmap(static_cast<char*>(s.sp) - s.size - page(), s.size + page());
      free_.clear();
      size_ = size;
    }
    if (!free_.empty()) {
      bctx::stack_context s = free_.back();
      free_.pop_back();
      return s;
    }
    const size_t total = size + page();
    void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    mprotect(base, page(), PROT_NONE);
    bctx::stack_context s;
    s.size = size;
    s.sp = static_cast<char*>(base) + total;
    return s;
  }
  void release(bctx::stack_context& s) noexcept {
    if (s.size == size_ && san::kReuseStacks) {
      free_.push_back(s);
    } else {
      munmap(static_cast<char*>(s.sp) - s.size - page(), s.size + page());
    }
  }

 private:
  static size_t page() {
    static const size_t bytes = size_t(sysconf(_SC_PAGESIZE));
    return bytes;
  }
  size_t size_ = 0;
  std::vector<bctx::stack_context> free_;
};

thread_local StackPool tl_stacks;

struct PooledStack {  // Boost.Context's StackAllocator concept over tl_stacks
  size_t size;
  san::Fiber* san;
  DeviceRange* range;  // where the lane's stack lies (the access counters skip it)
  bctx::stack_context allocate() {
    bctx::stack_context s = tl_stacks.allocate(size);
    san::stack_allocated(*san, s.sp, s.size);
    *range = DeviceRange{static_cast<char*>(s.sp) - s.size, s.size};
    return s;
  }
  void deallocate(bctx::stack_context& s) noexcept { tl_stacks.release(s); }
};

// ---------------------------------------------------------------- blocks

struct SrcLoc {
  const char* file = "";
  int line = 0;
};

bool same_site(const SrcLoc& a, const SrcLoc& b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

std::string where(const SrcLoc& loc) { return std::string(loc.file) + ":" + std::to_string(loc.line); }

enum class State : uint8_t { runnable, barrier, warp, done };

// One queued cp.async of a lane: `bytes` (0..16) from src, zeros up to 16.
struct CpCopy {
  void* dst;
  const void* src;
  int bytes;
  unsigned group;  // the commit that closes its group: the lane's commit count at issue
};

struct Lane {
  uint3 tid;
  unsigned linear;
  State state;
  SrcLoc loc;        // where it waits
  bctx::fiber fiber; // the lane while parked
  bctx::fiber sched; // the scheduler while the lane runs
  // warp collective operands and result
  WarpOp op;
  unsigned mask;
  uint64_t value;
  int arg, width;
  uint64_t result;
  const void* in;  // mma / ldmatrix operands on the parked lane's stack
  void* out;       // and where its results go
  // cp.async: queued copies (oldest first) and the number of commit_groups so far
  std::vector<CpCopy> cp;
  unsigned cp_commits;
  san::Fiber san;
  DeviceRange stack;  // the fiber's stack: its locals, which the access counters do not count
};

struct Warp {
  unsigned exists;   // lanes that exist (the last warp of a block may be partial)
  unsigned arrived;  // lanes waiting in the pending collective
  unsigned mask;
  WarpOp op;
  SrcLoc loc;
  unsigned first;    // first lane to arrive
};

struct Launch;

// The state of the block an OS thread is running; reused from block to block.
struct Block {
  const Launch* launch = nullptr;
  uint3 idx{};
  uint64_t linear = 0;
  unsigned nthreads = 0, waiting = 0, exited = 0, done = 0;
  std::vector<Lane> lanes;
  std::vector<Warp> warps;
  std::vector<unsigned> order;
  Lane* current = nullptr;
  bool cancel = false;
  std::string error;
  struct Slot {
    const void* site;
    void* ptr;
    size_t bytes;
  };
  std::vector<Slot> shared;  // EMU_SHARED site -> buffer
  size_t static_smem = 0;    // the bytes of `shared`
  void* dyn = nullptr;
  DeviceRange cp_source;     // the last allocation a cp.async read from (saves the registry's lock)
  DeviceRange accessed;      // the last allocation a counted access touched (the same, for the counters)
  uint64_t rng = 0;
  san::BlockSync sync;  // the barrier's and warp collectives' happens-before edges (sanitizer builds)
  bool counting = false;     // the launch counts accesses (a LaunchStatsLog exists)
  detail::AccessCounters counters;

  void fail(const std::string& message) {
    if (error.empty()) error = message;
    cancel = true;
  }
};

thread_local Block* tl_block = nullptr;

struct Cancelled {};  // unwinds a parked fiber of a failed block; deliberately not a std::exception

struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string thread_name(const uint3& t) {
  return "thread (" + std::to_string(t.x) + "," + std::to_string(t.y) + "," + std::to_string(t.z) + ")";
}

std::string hex(unsigned mask) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", mask);
  return buf;
}

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::shfl: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync";
    case WarpOp::syncwarp: return "__syncwarp";
    case WarpOp::mma_f16: return "mma.sync.m16n8k16.f32.f16";
    case WarpOp::mma_bf16: return "mma.sync.m16n8k16.f32.bf16";
    case WarpOp::ldmatrix_x1: return "ldmatrix.x1";
    case WarpOp::ldmatrix_x2: return "ldmatrix.x2";
    case WarpOp::ldmatrix_x4: return "ldmatrix.x4";
    case WarpOp::ldmatrix_x1_trans: return "ldmatrix.x1.trans";
    case WarpOp::ldmatrix_x2_trans: return "ldmatrix.x2.trans";
    case WarpOp::ldmatrix_x4_trans: return "ldmatrix.x4.trans";
  }
  return "?";
}

// Parks the running lane until the scheduler resumes it; a cancelled block unwinds it.
void park(Block& b, Lane& lane) {
  san::lane_parking(lane.san);
  lane.sched = std::move(lane.sched).resume();
  san::lane_resumed(lane.san);
  if (b.cancel) throw Cancelled{};
}

// All threads are either waiting at the barrier or exited: check, then release.
// Returns the error (strict mode) or "" after releasing.
std::string complete_barrier(Block& b, bool strict) {
  const Lane* ref = nullptr;
  for (auto& l : b.lanes) {
    if (l.state != State::barrier) continue;
    if (!ref) {
      ref = &l;
    } else if (strict && !same_site(ref->loc, l.loc)) {
      return where(ref->loc) + ": divergent __syncthreads: " + thread_name(ref->tid) + " waits at " +
             where(ref->loc) + " while " + thread_name(l.tid) + " waits at " + where(l.loc);
    }
  }
  if (strict && b.exited > 0 && ref) {
    const Lane* gone = nullptr;
    for (auto& l : b.lanes)
      if (l.state == State::done && !gone) gone = &l;
    return where(ref->loc) + ": divergent __syncthreads: barrier reached while " + std::to_string(b.exited) +
           " thread(s) of the block had already exited (first: " + thread_name(gone->tid) + ")";
  }
  for (auto& l : b.lanes)
    if (l.state == State::barrier) l.state = State::runnable;
  b.waiting = 0;
  b.sync.barrier_done();
  if (b.counting) b.counters.block_synchronised();
  return "";
}

// [p, p + n) lies inside one EMU_SHARED buffer or the dynamic shared memory of the block.
bool in_shared(const Block& b, const void* p, size_t n);
// The block's launch's Config::mma (Launch is defined further down).
MmaAccumulate mma_accumulation(const Block& b);

// [p, p + n) lies inside the range r (never inside an empty one).
bool inside(const DeviceRange& r, const void* p, size_t n) {
  const uintptr_t lo = reinterpret_cast<uintptr_t>(r.base), q = reinterpret_cast<uintptr_t>(p);
  return r.base && q >= lo && q - lo <= r.bytes && n <= r.bytes - (q - lo);
}

struct MmaIn {  // one lane's operands, as warp_mma hands them in
  uint32_t a[4], b[2];
  float c[4];
};

float unpack(uint32_t reg, int half, bool bf16) {
  const uint16_t h = uint16_t(reg >> (16 * half));
  return bf16 ? wpm::bf16_to_float(h) : wpm::f16_to_float(h);
}

// m16n8k16, layouts of docs/emulator.md, "Fragment layouts" (PTX ISA "Matrix Fragments for
// mma.m16n8k16"): g = lane >> 2, t = lane & 3; a register's low half holds the
// lower column (A) or k (B) index. Each element of D is summed as `mode` says (mma_accumulate.h).
void perform_mma(Lane* lanes, bool bf16, MmaAccumulate mode) {
  float A[16][16], B[16][8], C[16][8];
  for (unsigned l = 0; l < 32; ++l) {
    const MmaIn& in = *static_cast<const MmaIn*>(lanes[l].in);
    const unsigned g = l >> 2, t = l & 3;
    for (int h = 0; h < 2; ++h) {
      A[g][2 * t + h] = unpack(in.a[0], h, bf16);
      A[g + 8][2 * t + h] = unpack(in.a[1], h, bf16);
      A[g][2 * t + 8 + h] = unpack(in.a[2], h, bf16);
      A[g + 8][2 * t + 8 + h] = unpack(in.a[3], h, bf16);
      B[2 * t + h][g] = unpack(in.b[0], h, bf16);
      B[2 * t + 8 + h][g] = unpack(in.b[1], h, bf16);
    }
    C[g][2 * t] = in.c[0];
    C[g][2 * t + 1] = in.c[1];
    C[g + 8][2 * t] = in.c[2];
    C[g + 8][2 * t + 1] = in.c[3];
  }
  float D[16][8];
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double products[detail::kMmaProducts];
      for (int k = 0; k < 16; ++k) products[k] = double(A[i][k]) * double(B[k][j]);
      D[i][j] = detail::mma_accumulate(mode, C[i][j], products);
    }
  for (unsigned l = 0; l < 32; ++l) {
    float* d = static_cast<float*>(lanes[l].out);
    const unsigned g = l >> 2, t = l & 3;
    d[0] = D[g][2 * t];
    d[1] = D[g][2 * t + 1];
    d[2] = D[g + 8][2 * t];
    d[3] = D[g + 8][2 * t + 1];
  }
}

// ldmatrix: matrix j's row r is the 16 bytes at lane 8j + r's address. Lane l
// gets row l >> 2, elements 2(l & 3) and 2(l & 3) + 1 (low half first) of each
// matrix; with .trans, of the transposed matrix (column l >> 2 of rows 2(l & 3), + 1).
void perform_ldmatrix(Lane* lanes, int count, bool trans) {
  uint16_t M[4][8][8];
  for (int j = 0; j < count; ++j)
    for (int r = 0; r < 8; ++r) std::memcpy(M[j][r], lanes[8 * j + r].in, 16);
  for (unsigned l = 0; l < 32; ++l) {
    uint32_t* out = static_cast<uint32_t*>(lanes[l].out);
    const unsigned row = l >> 2, col = 2 * (l & 3);
    for (int j = 0; j < count; ++j) {
      const uint16_t lo = trans ? M[j][col][row] : M[j][row][col];
      const uint16_t hi = trans ? M[j][col + 1][row] : M[j][row][col + 1];
      out[j] = uint32_t(lo) | uint32_t(hi) << 16;
    }
  }
}

// mma.sync.aligned and ldmatrix.sync.aligned: every lane of the warp must execute the
// same instruction, not merely the same operation from two branches.
bool is_aligned_op(WarpOp op) { return op >= WarpOp::mma_f16; }

int ldmatrix_count(WarpOp op) {
  switch (op) {
    case WarpOp::ldmatrix_x1: case WarpOp::ldmatrix_x1_trans: return 1;
    case WarpOp::ldmatrix_x2: case WarpOp::ldmatrix_x2_trans: return 2;
    case WarpOp::ldmatrix_x4: case WarpOp::ldmatrix_x4_trans: return 4;
    default: return 0;
  }
}

// The row addresses the warp's lanes handed to an ldmatrix, for the bank-conflict counter.
void count_ldmatrix(Block& b, const Lane* lanes, int count) {
  const void* rows[32];
  for (int i = 0; i < 8 * count; ++i) rows[i] = lanes[i].in;
  b.counters.ldmatrix(rows, count);
}

// The whole warp's collective, computed at once by the last lane to arrive.
// Shuffle lane selection follows PTX shfl.sync: c = ((32 - width) << 8) | clamp,
// segmask = c[12:8], clamp 0 for .up and 31 otherwise; an out-of-range source
// lane gives the lane its own value; a source lane outside the mask is
// undefined in CUDA and reads as poison (all bits set) here.
void perform(Block& b, Warp& w, unsigned warp_index) {
  Lane* lanes = &b.lanes[warp_index * 32];
  const unsigned mask = w.mask;
  if (b.counting && mask == w.exists) b.counters.warp_synchronised(warp_index);
  if (b.counting && (w.op == WarpOp::mma_f16 || w.op == WarpOp::mma_bf16)) b.counters.mma();
  if (w.op == WarpOp::mma_f16 || w.op == WarpOp::mma_bf16 || ldmatrix_count(w.op)) {
    if (ldmatrix_count(w.op)) {
      perform_ldmatrix(lanes, ldmatrix_count(w.op),
                       w.op == WarpOp::ldmatrix_x1_trans || w.op == WarpOp::ldmatrix_x2_trans ||
                           w.op == WarpOp::ldmatrix_x4_trans);
      if (b.counting) count_ldmatrix(b, lanes, ldmatrix_count(w.op));
    } else {
      perform_mma(lanes, w.op == WarpOp::mma_bf16, mma_accumulation(b));
    }
    for (unsigned i = 0; i < 32; ++i) lanes[i].state = State::runnable;
    w.arrived = 0;
    return;
  }
  unsigned ballot = 0;
  if (w.op == WarpOp::ballot)
    for (unsigned i = 0; i < 32; ++i)
      if ((mask >> i & 1) && lanes[i].value) ballot |= 1u << i;
  for (unsigned i = 0; i < 32; ++i) {
    if (!(mask >> i & 1)) continue;
    Lane& l = lanes[i];
    switch (w.op) {
      case WarpOp::ballot: l.result = ballot; break;
      case WarpOp::syncwarp: l.result = 0; break;
      default: {
        const int segmask = (32 - l.width) & 31;
        const int clamp = w.op == WarpOp::shfl_up ? 0 : 31;
        const int lane = int(i), bval = l.arg & 31;
        const int max_lane = (lane & segmask) | (clamp & ~segmask);
        const int min_lane = lane & segmask;
        int j = lane;
        bool in_range = false;
        switch (w.op) {
          case WarpOp::shfl_up: j = lane - bval; in_range = j >= max_lane; break;
          case WarpOp::shfl_down: j = lane + bval; in_range = j <= max_lane; break;
          case WarpOp::shfl_xor: j = lane ^ bval; in_range = j <= max_lane; break;
          default: j = min_lane | (bval & ~segmask); in_range = j <= max_lane; break;
        }
        if (!in_range) j = lane;
        l.result = (mask >> j & 1) ? lanes[j].value : ~uint64_t(0);
      }
    }
    l.state = State::runnable;
  }
  w.arrived = 0;
}

// ---------------------------------------------------------------- launches

struct Launch {
  detail::Thunk thunk;
  dim3 grid, block;
  size_t dyn_smem;
  Config config;
  uint64_t nblocks;
  BlockSequence sequence{BlockOrder::forward, 0, 0};  // which block each start position runs
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};  // set once error_block is below max
  std::mutex mutex;
  std::atomic<uint64_t> error_block{std::numeric_limits<uint64_t>::max()};
  std::string error;
  san::LaunchSync sync;  // the host's edges to and from the blocks (sanitizer builds)
  bool counting = false;  // count accesses into `stats` (detail::launch_stats_wanted())
  LaunchStats stats;

  void record(uint64_t block, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex);
    if (block < error_block) {
      error_block = block;
      error = message;
    }
    failed = true;
  }
};

MmaAccumulate mma_accumulation(const Block& b) { return b.launch->config.mma; }

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Performs the lane's queued copies whose group is below `groups` (in issue order).
void deliver_copies(Lane& lane, unsigned groups) {
  size_t kept = 0;
  for (size_t i = 0; i < lane.cp.size(); ++i) {
    const CpCopy& c = lane.cp[i];
    if (c.group < groups) {
      san::KernelScope kernel;  // the copy is the lane's access
      unsigned char chunk[16] = {};
      if (c.bytes) std::memcpy(chunk, c.src, size_t(c.bytes));
      std::memcpy(c.dst, chunk, 16);
    } else {
      lane.cp[kept++] = c;
    }
  }
  lane.cp.resize(kept);
}

void lane_exit(Block& b, Lane& lane) {
  lane.state = State::done;
  ++b.exited;
  ++b.done;
  if (b.cancel || b.waiting == 0 || b.waiting + b.exited != b.nthreads) return;
  const std::string error = complete_barrier(b, b.launch->config.strict);
  if (!error.empty()) b.fail(error);
}

void start_lane(Block& b, Lane& lane) {
  san::fiber_creating(lane.san);
  lane.fiber = bctx::fiber(std::allocator_arg, PooledStack{b.launch->config.stack_bytes, &lane.san, &lane.stack},
                           [&b, &lane](bctx::fiber&& sched) {
                             san::lane_started(lane.san, b.launch->sync);
                             lane.sched = std::move(sched);
                             try {
                               if (!b.cancel) {
                                 san::KernelScope kernel;
                                 b.launch->thunk.call(b.launch->thunk.context);
                               }
                               if (!b.cancel) deliver_copies(lane, ~0u);  // still pending at exit
                             } catch (const Cancelled&) {
                             } catch (const bctx::detail::forced_unwind&) {
                               throw;
                             } catch (const std::exception& e) {
                               b.fail(e.what());
                             } catch (...) {
                               b.fail(thread_name(lane.tid) + ": kernel threw an unknown exception");
                             }
                             lane_exit(b, lane);
                             san::lane_finishing(lane.san, b.launch->sync);
                             return std::move(lane.sched);
                           });
  san::fiber_created(lane.san);
}

thread_local watchdog::Beat tl_beat;

// The watchdog's report on the fiber a worker is running (its Block); see watchdog.h.
std::string describe_running_fiber(const void* block) {
  const Block& b = *static_cast<const Block*>(block);
  const Lane* lane = b.current;
  if (!lane) return "a fiber";
  const std::string last = lane->loc.line ? "its last barrier or collective was at " + where(lane->loc)
                                          : "it has reached no barrier or collective yet";
  return (lane->loc.line ? where(lane->loc) + ": " : std::string()) + thread_name(lane->tid) + " of block (" +
         std::to_string(b.idx.x) + "," + std::to_string(b.idx.y) + "," + std::to_string(b.idx.z) + ") (" + last +
         ")";
}

void resume(Block& b, Lane& lane) {
  b.current = &lane;
  detail::tl_thread_idx = &lane.tid;
  tl_beat.enter(&b, b.launch->config.watchdog_seconds, describe_running_fiber);
  san::entering(lane.san);
  lane.fiber = std::move(lane.fiber).resume();
  san::left(lane.san, lane.state == State::done);
  tl_beat.leave();
  b.current = nullptr;
}

// "file:line: deadlock ..." listing the waiting threads grouped by where they wait.
std::string deadlock_message(const Block& b) {
  std::string list;
  const Lane* first = nullptr;
  int groups = 0;
  for (size_t i = 0; i < b.lanes.size();) {
    const Lane& l = b.lanes[i];
    if (l.state == State::done) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < b.lanes.size() && b.lanes[j].state == l.state && same_site(b.lanes[j].loc, l.loc) &&
           (l.state != State::warp || (b.lanes[j].op == l.op && b.lanes[j].mask == l.mask)))
      ++j;
    if (!first) first = &l;
    if (groups++ < 8) {
      list += "; " + thread_name(l.tid);
      if (j - i > 1) list += " and the " + std::to_string(j - i - 1) + " thread(s) after it";
      if (l.state == State::barrier) {
        list += " wait at __syncthreads at " + where(l.loc);
      } else {
        list += std::string(" wait in ") + op_name(l.op) + " (mask " + hex(l.mask) + ") at " + where(l.loc);
      }
    }
    i = j;
  }
  if (groups > 8) list += "; and " + std::to_string(groups - 8) + " more group(s)";
  return where(first->loc) + ": deadlock: no thread can run, " + std::to_string(b.nthreads - b.done) +
         " thread(s) not finished" + list;
}

void prepare_order(Block& b, Order order) {
  const unsigned n = b.nthreads;
  if (order == Order::reverse) {
    for (unsigned i = 0; i < n; ++i) b.order[i] = n - 1 - i;
  } else {
    for (unsigned i = 0; i < n; ++i) b.order[i] = i;
  }
  if (order == Order::random)
    for (unsigned i = n - 1; i > 0; --i) std::swap(b.order[i], b.order[splitmix64(b.rng) % (i + 1)]);
}

void free_block_memory(Block& b) {
  for (auto& s : b.shared) ::operator delete(s.ptr, std::align_val_t(64));
  b.shared.clear();
  b.static_smem = 0;
  b.cp_source = DeviceRange{};
  b.accessed = DeviceRange{};
  ::operator delete(b.dyn, std::align_val_t(64));
  b.dyn = nullptr;
}

// Runs one block to completion on this OS thread. Returns its error ("" if none).
std::string run_block(Block& b, const Launch& launch, uint64_t linear) {
  const dim3 grid = launch.grid, block = launch.block;
  b.launch = &launch;
  b.linear = linear;
  b.idx = uint3{unsigned(linear % grid.x), unsigned(linear / grid.x % grid.y), unsigned(linear / grid.x / grid.y)};
  b.nthreads = block.x * block.y * block.z;
  b.waiting = b.exited = b.done = 0;
  b.cancel = false;
  b.error.clear();
  b.lanes.resize(b.nthreads);
  b.order.resize(b.nthreads);
  b.warps.assign((b.nthreads + 31) / 32, Warp{});
  for (unsigned w = 0; w < b.warps.size(); ++w) {
    const unsigned count = std::min(32u, b.nthreads - w * 32);
    b.warps[w].exists = count == 32 ? ~0u : (1u << count) - 1;
  }
  b.sync.reset(b.warps.size());
  b.counting = launch.counting;
  if (b.counting) b.counters.start_block(b.nthreads);
  uint64_t seed = launch.config.seed ^ (linear * 0xd1b54a32d192ed03ull);
  b.rng = splitmix64(seed);
  if (launch.dyn_smem) {
    b.dyn = ::operator new(launch.dyn_smem, std::align_val_t(64));
    std::memset(b.dyn, 0xFF, launch.dyn_smem);
  }
  detail::tl_block_idx = &b.idx;
  tl_block = &b;
  for (unsigned i = 0; i < b.nthreads; ++i) {
    Lane& l = b.lanes[i];
    l.tid = uint3{i % block.x, i / block.x % block.y, i / block.x / block.y};
    l.linear = i;
    l.state = State::runnable;
    l.loc = SrcLoc{};
    l.cp.clear();
    l.cp_commits = 0;
    start_lane(b, l);
  }
  while (b.done < b.nthreads) {
    bool progressed = false;
    if (launch.config.order == Order::greedy) {
      // The lowest runnable lane, again and again: after each resume the scan
      // restarts at that lane's warp, so a warp whose collective just completed
      // runs on. Warp 0 races ahead to its next barrier before warp 1 starts:
      // the write-after-read races (a reused buffer overwritten before slower
      // warps read it) that round-by-round orders cannot produce.
      for (unsigned i = 0; i < b.nthreads;) {
        Lane& l = b.lanes[i];
        if (l.state != State::runnable) {
          ++i;
          continue;
        }
        resume(b, l);
        progressed = true;
        i &= ~31u;
      }
    } else {
      prepare_order(b, launch.config.order);
      for (unsigned i : b.order) {
        Lane& l = b.lanes[i];
        if (l.state != State::runnable) continue;
        resume(b, l);
        progressed = true;
      }
    }
    if (b.cancel) {  // wake every parked fiber so it unwinds (park throws Cancelled)
      for (auto& l : b.lanes)
        if (l.state != State::done) l.state = State::runnable;
    } else if (!progressed) {
      b.fail(deadlock_message(b));
      for (auto& l : b.lanes)
        if (l.state != State::done) l.state = State::runnable;
    }
  }
  tl_block = nullptr;
  free_block_memory(b);
  if (b.error.empty()) return "";
  return b.error + " [block (" + std::to_string(b.idx.x) + "," + std::to_string(b.idx.y) + "," +
         std::to_string(b.idx.z) + ")]";
}

void run_blocks(Launch& launch) {
  san::RuntimeScope runtime;  // the scheduler's bookkeeping, which the CUDA threads read unordered
  thread_local Block block;
  san::launch_starting();
  detail::tl_block_dim = &launch.block;
  detail::tl_grid_dim = &launch.grid;
  for (;;) {
    const uint64_t position = launch.next.fetch_add(1);
    if (position >= launch.nblocks) break;
    const uint64_t i = launch.sequence[position];
    // After a failure only lower-numbered blocks still run, whatever the block order: one of
    // them may fail too, and the lowest failing block is the one reported.
    if (launch.failed && i > launch.error_block) continue;
    std::string error;
    try {
      error = run_block(block, launch, i);
    } catch (const std::exception& e) {  // outside any fiber: out of memory for stacks or buffers
      tl_block = nullptr;
      free_block_memory(block);
      error = std::string("emulator: ") + e.what();
    }
    if (!error.empty()) launch.record(i, error);
    if (launch.counting) {
      std::lock_guard<std::mutex> lock(launch.mutex);
      block.counters.add_to(launch.stats);
    }
  }
}

// Persistent worker threads; every worker takes part in every launch.
class Pool {
 public:
  ~Pool() { resize(0); }

  void run(Launch& launch, int threads) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (int(workers_.size()) != threads) {
      lock.unlock();
      resize(threads);
      lock.lock();
    }
    job_ = &launch;
    active_ = int(workers_.size());
    ++generation_;
    wake_.notify_all();
    done_.wait(lock, [&] { return active_ == 0; });
    job_ = nullptr;
  }

 private:
  void resize(int threads) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      wake_.notify_all();
    }
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
    // The generation is handed over here, not read by the worker, so a launch
    // posted before the worker first runs is not missed.
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this, g = generation_] { work(g); });
  }

  void work(uint64_t seen) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      Launch* job = job_;
      lock.unlock();
      run_blocks(*job);
      lock.lock();
      if (--active_ == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  Launch* job_ = nullptr;
  uint64_t generation_ = 0;
  int active_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

std::string dim_text(dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

}  // namespace

// ---------------------------------------------------------------- public API

Config config() {
  auto& s = config_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.config;
}

void set_config(const Config& c) {
  if (c.threads < 1 || c.threads > 256) throw std::invalid_argument("emu::Config::threads must be 1..256");
  if (c.stack_bytes < (16u << 10)) throw std::invalid_argument("emu::Config::stack_bytes must be >= 16 KiB");
  if (!(c.watchdog_seconds >= 0)) throw std::invalid_argument("emu::Config::watchdog_seconds must be >= 0");
  auto& s = config_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.config = c;
  s.config.stack_bytes = (c.stack_bytes + 4095) & ~size_t(4095);
  s.env_error.clear();
}

namespace {
bool parse_block_order(const std::string& text, Config& c) {
  if (text == "forward" || text == "reverse") {
    c.block_order = text == "forward" ? BlockOrder::forward : BlockOrder::reverse;
    return true;
  }
  if (text.rfind("random:", 0) != 0 || text.size() == 7 || text[7] == '-') return false;
  char* end = nullptr;
  const unsigned long long seed = std::strtoull(text.c_str() + 7, &end, 10);
  if (*end != '\0') return false;
  c.block_order = BlockOrder::random;
  c.block_seed = seed;
  return true;
}
}  // namespace

bool parse_schedule(const std::string& text, Config& c, std::string* error) {
  const size_t comma = text.find(',');
  if (comma != std::string::npos) {
    const std::string blocks = text.substr(comma + 1);
    Config parsed = c;
    if (blocks.rfind("blocks=", 0) != 0 || !parse_block_order(blocks.substr(7), parsed) ||
        !parse_schedule(text.substr(0, comma), parsed, nullptr)) {
      if (error)
        *error = "bad value '" + text + "' (expected THREADS[,blocks=BLOCKS]: THREADS forward, reverse, greedy or " +
                 "random:SEED; BLOCKS forward, reverse or random:SEED)";
      return false;
    }
    c = parsed;
    return true;
  }
  if (text == "forward") {
    c.order = Order::forward;
    return true;
  }
  if (text == "reverse") {
    c.order = Order::reverse;
    return true;
  }
  if (text == "greedy") {
    c.order = Order::greedy;
    return true;
  }
  if (text.rfind("random:", 0) == 0 && text.size() > 7) {
    char* end = nullptr;
    const unsigned long long seed = std::strtoull(text.c_str() + 7, &end, 10);
    if (*end == '\0' && text[7] != '-') {
      c.order = Order::random;
      c.seed = seed;
      return true;
    }
  }
  if (error) *error = "bad value '" + text + "' (expected forward, reverse, greedy or random:SEED)";
  return false;
}

namespace detail {

void syncthreads(const char* file, int line) {
  san::RuntimeScope runtime;
  Block& b = *tl_block;
  Lane& lane = *b.current;
  lane.state = State::barrier;
  lane.loc = SrcLoc{file, line};
  const void* sync = b.sync.barrier();
  san::release(sync);  // arrival publishes the thread's writes; leaving acquires everyone's
  ++b.waiting;
  if (b.waiting + b.exited == b.nthreads) {
    const std::string error = complete_barrier(b, b.launch->config.strict);
    if (!error.empty()) throw KernelError(error);
  }
  park(b, lane);
  san::acquire(sync);
}

namespace {

// The lane arrives at a warp collective (operands already in lane.value/arg/width
// or lane.in/out); the last lane to arrive performs it. Returns once it is done.
void arrive(Block& b, Lane& lane, WarpOp op, unsigned mask, int width, const SrcLoc& loc) {
  const unsigned w = lane.linear / 32, bit = 1u << (lane.linear % 32);
  Warp& warp = b.warps[w];
  // Built only on the error paths: collectives are the emulator's hottest code.
  auto at = [&] { return where(loc) + ": " + op_name(op) + ": "; };
  if (!(mask & bit))
    throw KernelError(at() + "lane " + std::to_string(lane.linear % 32) + " (" + thread_name(lane.tid) +
                      ") is not in mask " + hex(mask));
  if (mask & ~warp.exists)
    throw KernelError(at() + "mask " + hex(mask) + " names lanes that do not exist (warp " + std::to_string(w) +
                      " has lanes " + hex(warp.exists) + ")");
  if (op != WarpOp::ballot && op != WarpOp::syncwarp && (width < 1 || width > 32 || (width & (width - 1))))
    throw KernelError(at() + "width " + std::to_string(width) + " is not a power of two in 1..32");
  if (warp.arrived) {
    if (warp.op != op || warp.mask != mask)
      throw KernelError(at() + "divergent warp collective in warp " + std::to_string(w) + ": lane " +
                        std::to_string(lane.linear % 32) + " calls it with mask " + hex(mask) + " while lane " +
                        std::to_string(warp.first) + " waits in " + op_name(warp.op) + " (mask " +
                        hex(warp.mask) + ") at " + where(warp.loc));
    if (is_aligned_op(op) && !same_site(warp.loc, loc))
      throw KernelError(at() + "lanes of warp " + std::to_string(w) + " reach this .aligned instruction from "
                        "different call sites: lane " + std::to_string(lane.linear % 32) + " here, lane " +
                        std::to_string(warp.first) + " at " + where(warp.loc));
  } else {
    warp.op = op;
    warp.mask = mask;
    warp.loc = loc;
    warp.first = lane.linear % 32;
  }
  lane.op = op;
  lane.mask = mask;
  lane.state = State::warp;
  lane.loc = loc;
  const void* sync = b.sync.warp(w);
  san::release(sync);  // as a barrier among the lanes of the mask
  warp.arrived |= bit;
  if (warp.arrived == mask) {
    perform(b, warp, w);
    b.sync.warp_done(w);
  }
  park(b, lane);
  san::acquire(sync);
}

}  // namespace

uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int arg, int width, const char* file,
                         int line) {
  san::RuntimeScope runtime;
  Block& b = *tl_block;
  Lane& lane = *b.current;
  lane.value = value;
  lane.arg = arg;
  lane.width = width;
  arrive(b, lane, op, mask, width, SrcLoc{file, line});
  return lane.result;
}

void warp_mma(bool bf16, float* d, const uint32_t* a, const uint32_t* bfrag, const float* c, const char* file,
              int line) {
  san::RuntimeScope runtime;
  Block& b = *tl_block;
  Lane& lane = *b.current;
  MmaIn in;  // copied, so d may alias c
  std::memcpy(in.a, a, sizeof in.a);
  std::memcpy(in.b, bfrag, sizeof in.b);
  std::memcpy(in.c, c, sizeof in.c);
  float out[4];
  lane.in = &in;
  lane.out = out;
  arrive(b, lane, bf16 ? WarpOp::mma_bf16 : WarpOp::mma_f16, 0xffffffffu, 32, SrcLoc{file, line});
  std::memcpy(d, out, sizeof out);
}

void warp_ldmatrix(int count, bool trans, uint32_t* r, const void* row, const char* file, int line) {
  san::RuntimeScope runtime;
  Block& b = *tl_block;
  Lane& lane = *b.current;
  const WarpOp op = count == 1   ? (trans ? WarpOp::ldmatrix_x1_trans : WarpOp::ldmatrix_x1)
                    : count == 2 ? (trans ? WarpOp::ldmatrix_x2_trans : WarpOp::ldmatrix_x2)
                                 : (trans ? WarpOp::ldmatrix_x4_trans : WarpOp::ldmatrix_x4);
  const SrcLoc loc{file, line};
  const unsigned l = lane.linear % 32;
  if (l < unsigned(8 * count)) {  // only these lanes' addresses are used
    auto who = [&] {
      char addr[32];
      std::snprintf(addr, sizeof addr, "%p", row);
      return where(loc) + ": " + op_name(op) + ": lane " + std::to_string(l) + " (" + thread_name(lane.tid) +
             ") row address " + addr;
    };
    if (reinterpret_cast<uintptr_t>(row) % 16 != 0) throw KernelError(who() + " is not 16-byte aligned");
    if (!in_shared(b, row, 16))
      throw KernelError(who() + " is not in this block's shared memory (EMU_SHARED or emu_dynamic_smem)");
    san::kernel_read(row, 16);  // the warp reads the row when the last lane arrives
  }
  uint32_t out[4];
  lane.in = row;
  lane.out = out;
  arrive(b, lane, op, 0xffffffffu, 32, loc);
  std::memcpy(r, out, sizeof(uint32_t) * size_t(count));
}

void cp_async(void* dst, const void* src, int src_bytes, const char* file, int line) {
  san::RuntimeScope runtime;
  Block& b = *tl_block;
  Lane& lane = *b.current;
  auto who = [&] {
    char addr[64];
    std::snprintf(addr, sizeof addr, "dst %p, src %p", dst, src);
    return where(SrcLoc{file, line}) + ": cp.async: " + thread_name(lane.tid) + " (" + addr + ")";
  };
  if (src_bytes < 0 || src_bytes > 16)
    throw KernelError(who() + ": source size " + std::to_string(src_bytes) + " is not in 0..16");
  if (reinterpret_cast<uintptr_t>(dst) % 16 != 0 || reinterpret_cast<uintptr_t>(src) % 16 != 0)
    throw KernelError(who() + ": addresses must be 16-byte aligned");
  if (!in_shared(b, dst, 16))
    throw KernelError(who() + ": dst is not in this block's shared memory (EMU_SHARED or emu_dynamic_smem)");
  if (in_shared(b, src, 1)) throw KernelError(who() + ": src is in shared memory (cp.async reads global memory)");
  if (src_bytes > 0 && !inside(b.cp_source, src, size_t(src_bytes))) {
    b.cp_source = device_allocation_of(src, size_t(src_bytes));
    if (!b.cp_source.base)
      throw KernelError(who() + ": the " + std::to_string(src_bytes) +
                        " source bytes are not inside a live device allocation (freed, host memory, or past an end)");
  }
  if (b.counting) b.counters.cp_async(lane.linear, src, src_bytes, file, line);
  lane.cp.push_back(CpCopy{dst, src, src_bytes, lane.cp_commits});
  if (!b.launch->config.defer_cp_async) deliver_copies(lane, ~0u);
}

void cp_async_commit() {
  san::RuntimeScope runtime;
  Lane& lane = *tl_block->current;
  ++lane.cp_commits;
}

void cp_async_wait(int n) {
  san::RuntimeScope runtime;
  Lane& lane = *tl_block->current;
  const unsigned keep = unsigned(n < 0 ? 0 : n);
  if (lane.cp_commits > keep) deliver_copies(lane, lane.cp_commits - keep);
}

void* shared_slot(const void* site, size_t bytes, const char* file, int line) {
  san::RuntimeScope runtime;
  Block& b = *tl_block;
  for (auto& s : b.shared)
    if (s.site == site) return s.ptr;
  const SharedLimits limit = shared_limits(b.launch->config.arch);
  const size_t total = b.static_smem + bytes;
  if (total > limit.static_max || total + b.launch->dyn_smem > limit.per_block)
    throw KernelError(where(SrcLoc{file, line}) + ": EMU_SHARED of " + std::to_string(bytes) +
                      " bytes brings the block to " + std::to_string(total) + " bytes of static and " +
                      std::to_string(b.launch->dyn_smem) + " of dynamic shared memory, over " + limit.arch + "'s limits (" +
                      std::to_string(limit.static_max) + " static, " + std::to_string(limit.per_block) +
                      " in all per block; emu::Config::arch, WORLDPM_EMU_ARCH)");
  b.static_smem = total;
  void* p = ::operator new(bytes, std::align_val_t(64));
  std::memset(p, 0xFF, bytes);
  b.shared.push_back(Block::Slot{site, p, bytes});
  return p;
}

void* dynamic_smem() {
  san::RuntimeScope runtime;
  return tl_block->dyn;
}

void kernel_error(const std::string& message) { throw KernelError(message); }

void misaligned_access(const char* what, int bytes, const void* p, const char* file, int line) {
  char address[32];
  std::snprintf(address, sizeof address, "%p", p);
  const std::string width = std::to_string(bytes) + "-byte";
  throw KernelError(where(SrcLoc{file, line}) + ": " + what + ": address " + address + " is not " + width +
                    " aligned (a " + width + " access faults on the GPU)");
}

void name_kernel(const char* function) {
  Block& b = *tl_block;
  if (b.counting) b.counters.name_kernel(function);
}

// Classified by address: the lane's stack (locals: registers on a GPU) and host memory (the launch's
// parameters, constant tables) are not global memory, so only shared memory and device_alloc count.
void count_memory_access(const void* p, size_t bytes, bool write) {
  Block* b = tl_block;
  if (b == nullptr || !b->counting || b->current == nullptr) return;
  if (inside(b->current->stack, p, bytes)) return;
  if (in_shared(*b, p, bytes)) return b->counters.shared_access(bytes, write);
  if (!inside(b->accessed, p, bytes)) {
    const DeviceRange range = device_allocation_of(p, bytes);
    if (!range.base) return;
    b->accessed = range;
  }
  b->counters.global_access(bytes, write);
}

void count_flops(uint64_t flops) {
  Block* b = tl_block;
  if (b != nullptr && b->counting) b->counters.flops(flops);
}

namespace {
thread_local uint64_t tl_declared_min_bytes = 0;
thread_local std::function<uint64_t()> tl_declared_min_bytes_at_run;
}  // namespace

void declare_min_bytes(uint64_t bytes) { tl_declared_min_bytes = bytes; }
void declare_min_bytes_at_run(std::function<uint64_t()> bytes) { tl_declared_min_bytes_at_run = std::move(bytes); }

std::function<uint64_t()> take_min_bytes_at_run() { return std::exchange(tl_declared_min_bytes_at_run, nullptr); }

uint64_t take_min_bytes() {
  const std::function<uint64_t()> at_run = take_min_bytes_at_run();
  const uint64_t bytes = std::exchange(tl_declared_min_bytes, 0);
  // The function reads device data: only worth it when the launch's counts are kept.
  if (at_run) return launch_stats_wanted() ? at_run() : 0;
  return bytes;
}

void check_launch_bounds(unsigned max_threads, unsigned /*min_blocks*/, const char* file, int line) {
  const Block& b = *tl_block;
  if (b.nthreads > max_threads)
    throw KernelError(where(SrcLoc{file, line}) + ": a block of " + std::to_string(b.nthreads) + " threads " +
                      dim_text(*tl_block_dim) + " exceeds the kernel's __launch_bounds__ of " +
                      std::to_string(max_threads) + " (CUDA refuses the launch)");
}

}  // namespace detail

namespace {
bool in_shared(const Block& b, const void* p, size_t n) {
  if (inside(DeviceRange{b.dyn, b.launch->dyn_smem}, p, n)) return true;
  for (const auto& s : b.shared)
    if (inside(DeviceRange{s.ptr, s.bytes}, p, n)) return true;
  return false;
}
}  // namespace

namespace detail {

void launch(const Thunk& thunk, dim3 grid, dim3 block, size_t dyn_smem, uint64_t min_bytes) {
  if (tl_block) throw LaunchError("emu::launch: called from inside a kernel (dynamic parallelism is not emulated)");
  Launch l;
  l.thunk = thunk;
  l.grid = grid;
  l.block = block;
  l.dyn_smem = dyn_smem;
  {
    auto& s = config_state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.env_error.empty()) throw LaunchError(s.env_error);
    l.config = s.config;
  }
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64)
    throw LaunchError("emu::launch: block " + dim_text(block) + " must have 1..1024 threads and z <= 64");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
    throw LaunchError("emu::launch: grid " + dim_text(grid) + " is out of CUDA's limits");
  const SharedLimits smem = shared_limits(l.config.arch);
  if (dyn_smem > smem.per_block)
    throw LaunchError("emu::launch: " + std::to_string(dyn_smem) + " bytes of dynamic shared memory exceed " +
                      smem.arch + "'s " + std::to_string(smem.per_block) +
                      " per block (emu::Config::arch, WORLDPM_EMU_ARCH)");
  l.nblocks = uint64_t(grid.x) * grid.y * grid.z;
  l.sequence = BlockSequence(l.config.block_order, l.config.block_seed, l.nblocks);
  l.counting = launch_stats_wanted();
  std::lock_guard<std::mutex> lock(launch_mutex());
  san::release(&l.sync.start);  // the host's writes happen before every thread of the launch
  pool().run(l, l.config.threads);
  san::acquire(&l.sync.end);    // and every thread's happen before the host goes on
  std::string error = l.error;
  const std::string guards = check_guards();
  if (!guards.empty()) error += (error.empty() ? "" : "\n") + guards;
  if (!error.empty()) throw LaunchError(error);
  if (l.counting) {
    l.stats.grid = grid;
    l.stats.block = block;
    l.stats.dyn_smem = dyn_smem;
    l.stats.min_bytes = min_bytes;
    record_launch_stats(l.stats);
  }
}

}  // namespace detail
}  // namespace emu
