// The emulator's spin-wait watchdog. A fiber keeps its OS thread until it reaches a
// barrier, a warp collective or its end, so a kernel that spins on memory another
// block (or a later fiber) would write hangs the emulator for good. Each OS thread
// that runs blocks owns a Beat that the scheduler marks around every fiber resume;
// a timer thread samples the beats and, when one has stayed inside the same resume
// for longer than its limit, prints what describe() says about the fiber and aborts:
// a spinning fiber cannot be unwound, and a loud end beats a silent hang.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace emu::watchdog {

// What the report says about the fiber a beat is running (called on the timer thread).
using Describe = std::string (*)(const void* subject);

class Beat {
 public:
  Beat() = default;
  ~Beat();
  Beat(const Beat&) = delete;
  Beat& operator=(const Beat&) = delete;

  // Around each resume: `subject` is what describe() is handed; a limit <= 0 disables.
  void enter(const void* subject, double limit_seconds, Describe describe) {
    if (!registered_) attach();
    subject_.store(subject, std::memory_order_relaxed);
    describe_.store(describe, std::memory_order_relaxed);
    limit_.store(limit_seconds, std::memory_order_relaxed);
    tick();
  }
  void leave() {
    subject_.store(nullptr, std::memory_order_relaxed);
    tick();
  }

 private:
  friend class Timer;
  void attach();
  // Only the owning thread writes: no read-modify-write needed.
  void tick() { ticks_.store(ticks_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  std::atomic<uint64_t> ticks_{0};
  std::atomic<const void*> subject_{nullptr};
  std::atomic<Describe> describe_{nullptr};
  std::atomic<double> limit_{0};
  bool registered_ = false;
  // Read by the timer thread only.
  uint64_t seen_ticks_ = 0;
  double stuck_seconds_ = 0;
};

}  // namespace emu::watchdog
