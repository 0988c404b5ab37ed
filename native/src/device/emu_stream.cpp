#include "emu_stream.h"

#include <cstring>
#include <utility>

#include "../error.h"

namespace wpm {

EmuStream::~EmuStream() { drain(); }

void EmuStream::push(std::function<void()> launch) {
  push_op([launch = std::move(launch)] {
    try {
      launch();
    } catch (const emu::LaunchError& e) {
      return fail(WPM_ERR_INTERNAL, "emu backend: a deferred kernel launch failed: %s", e.what());
    }
    return WPM_OK;
  });
}

void EmuStream::push_op(std::function<wpm_status()> op) {
  std::lock_guard<std::mutex> lock(mutex_);
  queued_.push_back({std::move(op), false});
}

wpm_status EmuStream::drain() {
  // Held while the work runs: a push or drain from another thread waits, so order is kept.
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Item> items = std::move(queued_);
  queued_.clear();
  wpm_status first = WPM_OK;
  for (Item& item : items) {
    if (first != WPM_OK && !item.is_release) continue;
    const wpm_status s = item.run();
    if (first == WPM_OK) first = s;
  }
  return first;
}

std::vector<std::function<wpm_status()>> EmuStream::take() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::function<wpm_status()>> ops;
  ops.reserve(queued_.size());
  for (Item& item : queued_) ops.push_back(std::move(item.run));
  queued_.clear();
  return ops;
}

void EmuStream::track(void* ptr, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  sizes_[ptr] = bytes;
}

void EmuStream::release(void* ptr) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (queued_.empty()) return free_now(ptr);
  queued_.push_back({[this, ptr] {
                       free_now(ptr);  // runs inside drain(), which holds mutex_
                       return WPM_OK;
                     },
                     true});
}

void EmuStream::free_now(void* ptr) {
  auto it = sizes_.find(ptr);
  if (it != sizes_.end()) {
    std::memset(ptr, 0xFF, it->second);
    sizes_.erase(it);
  }
  emu::device_free(ptr);
}

}  // namespace wpm
