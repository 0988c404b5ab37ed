#include "watchdog.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace emu::watchdog {

class Timer {
 public:
  static Timer& instance() {
    // Never destroyed: worker threads may still detach their beats during static destruction.
    static Timer* timer = new Timer;
    return *timer;
  }

  void add(Beat* beat) {
    std::lock_guard<std::mutex> lock(mutex_);
    beats_.push_back(beat);
    if (!started_) {
      started_ = true;
      std::thread([this] { run(); }).detach();
    }
  }
  void remove(Beat* beat) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& b : beats_)
      if (b == beat) {
        b = beats_.back();
        beats_.pop_back();
        break;
      }
  }

 private:
  static constexpr double kPeriod = 0.05;  // seconds between samples: the report comes at most this late

  void run() {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::duration<double>(kPeriod));
      std::lock_guard<std::mutex> lock(mutex_);
      for (Beat* b : beats_) sample(*b);
    }
  }

  static void sample(Beat& b) {
    const uint64_t ticks = b.ticks_.load(std::memory_order_acquire);
    const void* subject = b.subject_.load(std::memory_order_relaxed);
    const double limit = b.limit_.load(std::memory_order_relaxed);
    if (ticks != b.seen_ticks_ || !subject || limit <= 0) {
      b.seen_ticks_ = ticks;
      b.stuck_seconds_ = 0;
      return;
    }
    b.stuck_seconds_ += kPeriod;
    if (b.stuck_seconds_ < limit) return;
    const Describe describe = b.describe_.load(std::memory_order_relaxed);
    const std::string what = describe ? describe(subject) : std::string("a fiber");
    std::fprintf(stderr,
                 "emulator watchdog: spin-wait? %s has run for %.1f s without reaching a barrier, a warp "
                 "collective or its end (limit: emu::Config::watchdog_seconds, WORLDPM_EMU_WATCHDOG); aborting\n",
                 what.c_str(), b.stuck_seconds_);
    std::fflush(stderr);
    std::abort();
  }

  std::mutex mutex_;
  std::vector<Beat*> beats_;
  bool started_ = false;
};

void Beat::attach() {
  Timer::instance().add(this);
  registered_ = true;
}

Beat::~Beat() {
  if (registered_) Timer::instance().remove(this);
}

}  // namespace emu::watchdog
