// The sanitizer builds' side of fiber_sanitizer.h: TSan fiber contexts,
// happens-before edges and ignored runtime bookkeeping; ASan stack switches.
#include "fiber_sanitizer.h"

#if WPM_EMU_SANITIZED

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
// Exported by libtsan, not declared in its header: per-fiber "ignore memory accesses" counters.
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <deque>
#include <vector>

namespace emu::san {

namespace {
#if defined(__SANITIZE_THREAD__)
// The OS thread's own TSan context: the scheduler runs on it.
thread_local void* tl_scheduler = nullptr;
void* sync_ptr(const void* p) { return const_cast<void*>(p); }

// TSan fiber contexts of this OS thread. One is never destroyed: TSan
// reports a race only while it can read the earlier access's history, which a
// destroyed context takes with it, and a block's threads race with those of
// blocks that ran before it. Creating one costs far more than running a small
// kernel thread, so they are reused, but not within one launch: a reused
// context orders its new CUDA thread after the old one. Beyond kPerLaunch
// threads on one OS thread in one launch the oldest context is reused
// anyway (those two threads are then ordered). GCC 12's TSan dies beyond
// 8128 live threads, which kPerLaunch keeps clear of for up to three OS
// threads (Config::threads).
constexpr size_t kPerLaunch = 2048;
thread_local std::vector<void*> tl_unused;  // free for this launch
thread_local std::deque<void*> tl_used;     // taken in this launch, oldest first

void* take_context() {
  void* context;
  if (!tl_unused.empty()) {
    context = tl_unused.back();
    tl_unused.pop_back();
  } else if (tl_used.size() >= kPerLaunch) {
    context = tl_used.front();
    tl_used.pop_front();
  } else {
    context = __tsan_create_fiber(0);
  }
  tl_used.push_back(context);
  return context;
}
#endif
#if defined(__SANITIZE_ADDRESS__)
thread_local void* tl_scheduler_fake_stack = nullptr;
#endif
}  // namespace

void fiber_creating([[maybe_unused]] Fiber& f) {
#if defined(__SANITIZE_THREAD__)
  if (!tl_scheduler) tl_scheduler = __tsan_get_current_fiber();
  f.tsan = take_context();
  // Creation runs Boost's entry code on the new fiber, so its frames and the
  // stack allocation belong to it; it starts inside the runtime (ignored).
  __tsan_switch_to_fiber(f.tsan, __tsan_switch_to_fiber_no_sync);
  __tsan_ignore_thread_begin();
#endif
}

void fiber_created([[maybe_unused]] Fiber& f) {
#if defined(__SANITIZE_THREAD__)
  __tsan_switch_to_fiber(tl_scheduler, __tsan_switch_to_fiber_no_sync);
#endif
}

void stack_allocated(Fiber& f, const void* top, size_t size) {
  f.stack_bottom = static_cast<const char*>(top) - size;
  f.stack_size = size;
}

void entering([[maybe_unused]] Fiber& f) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_start_switch_fiber(&tl_scheduler_fake_stack, f.stack_bottom, f.stack_size);
#endif
#if defined(__SANITIZE_THREAD__)
  __tsan_switch_to_fiber(f.tsan, __tsan_switch_to_fiber_no_sync);
#endif
}

// The fiber jumps back without switching TSan's context: the scheduler does
// it here, so the code between (Boost's exit path, which returns the stack to
// the pool) still counts as the fiber's, inside its ignored runtime part.
void left([[maybe_unused]] Fiber& f, [[maybe_unused]] bool finished) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(tl_scheduler_fake_stack, nullptr, nullptr);
#endif
#if defined(__SANITIZE_THREAD__)
  if (finished) {
    // Leave the context as a fresh one: out of the runtime, and without the
    // frame of Boost's fiber entry, which never returns.
    __tsan_ignore_thread_end();
    __tsan_func_exit(nullptr);  // a compiler builtin under -fsanitize=thread; the runtime ignores the argument
  }
  __tsan_switch_to_fiber(tl_scheduler, __tsan_switch_to_fiber_no_sync);
  if (finished) f.tsan = nullptr;
#endif
}

void launch_starting() {
#if defined(__SANITIZE_THREAD__)
  tl_unused.insert(tl_unused.end(), tl_used.begin(), tl_used.end());
  tl_used.clear();
#endif
}

void lane_started([[maybe_unused]] Fiber& f, [[maybe_unused]] const LaunchSync& launch) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(nullptr, &f.sched_bottom, &f.sched_size);
#endif
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(sync_ptr(&launch.start));
#endif
}

void lane_parking([[maybe_unused]] Fiber& f) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_start_switch_fiber(&f.fake_stack, f.sched_bottom, f.sched_size);
#endif
}

void lane_resumed([[maybe_unused]] Fiber& f) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(f.fake_stack, &f.sched_bottom, &f.sched_size);
#endif
}

void lane_finishing([[maybe_unused]] Fiber& f, [[maybe_unused]] const LaunchSync& launch) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(sync_ptr(&launch.end));
#endif
#if defined(__SANITIZE_ADDRESS__)
  // No fake-stack slot: this stack is done.
  __sanitizer_start_switch_fiber(nullptr, f.sched_bottom, f.sched_size);
#endif
}

void release([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(sync_ptr(sync));
#endif
}

void acquire([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(sync_ptr(sync));
#endif
}

void kernel_read([[maybe_unused]] const void* p, [[maybe_unused]] size_t bytes) {
#if defined(__SANITIZE_THREAD__)
  runtime_end();
  __tsan_read_range(const_cast<void*>(p), long(bytes));  // a compiler builtin under -fsanitize=thread
  runtime_begin();
#endif
}

void runtime_begin() {
#if defined(__SANITIZE_THREAD__)
  __tsan_ignore_thread_begin();
#endif
}

void runtime_end() {
#if defined(__SANITIZE_THREAD__)
  __tsan_ignore_thread_end();
#endif
}

}  // namespace emu::san

#endif  // WPM_EMU_SANITIZED
