// The emu backend's stream in deferred mode (WORLDPM_EMU_QUEUE=deferred). Kernel
// launches, device-to-device copies and GEMMs are queued here and run, in order,
// at the platform's synchronisation points (a copy to or from the host,
// synchronize, the context's end), as a CUDA stream runs them at some time before
// the host waits. Host code that reads results without synchronising, or rewrites
// memory a queued kernel has yet to read, then sees what it would see on a GPU:
// poison, or the new bytes, instead of the immediate mode's in-order answer.
//
// Released memory is stream-ordered, like the cuda backend's caching allocator: a
// block released while work is queued is kept until that work ran. Either way it
// is poisoned (0xFF) before it is freed, so a dangling use reads NaN.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "emu.h"
#include "worldpm.h"

namespace wpm {

class EmuStream final : public emu::LaunchQueue {
 public:
  EmuStream() = default;
  ~EmuStream();  // runs what is still queued; a failure then has no caller to go to
  EmuStream(const EmuStream&) = delete;
  EmuStream& operator=(const EmuStream&) = delete;

  // A kernel launch (from klaunch); its LaunchError becomes the status of the draining call.
  void push(std::function<void()> launch) override;
  // The platform's own stream-ordered work; a non-OK status has set the error message.
  void push_op(std::function<wpm_status()> op);
  // Runs everything queued, in order. After the first failure the rest of the queued work is
  // dropped (as work queued after a faulting kernel never runs) except releases; returns that failure.
  wpm_status drain();
  // The queued work, taken out unrun (a graph capture's recording, emu_platform.cpp); the stream is then empty.
  // Releases are never recorded: the platform refuses them while capturing.
  std::vector<std::function<wpm_status()>> take();

  // Device memory this stream may later release (its size, for the poison).
  void track(void* ptr, size_t bytes);
  void release(void* ptr);

 private:
  struct Item {
    std::function<wpm_status()> run;
    bool is_release;
  };
  void free_now(void* ptr);  // mutex_ held

  std::mutex mutex_;
  std::vector<Item> queued_;
  std::unordered_map<void*, size_t> sizes_;
};

}  // namespace wpm
