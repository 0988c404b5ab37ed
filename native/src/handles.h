// What the opaque handles of the C ABI are.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "backend.h"

namespace wpm {

// Device memory of one allocation; freed when the last handle (buffer or view) goes.
// Memory wrapped with wpm_buffer_wrap belongs to the caller (owned = false): the
// last handle leaves it untouched, since the library never allocated it.
struct Storage {
  std::shared_ptr<Backend> backend;  // keeps the backend alive past its context
  void* ptr = nullptr;
  size_t bytes = 0;
  bool owned = true;
  ~Storage() { if (ptr && owned) backend->release(ptr); }
};

// Registries of live handles, so a freed or foreign pointer is reported, not dereferenced.
void register_handle(const void* handle);
void unregister_handle(const void* handle);
bool is_live_handle(const void* handle);

}  // namespace wpm

struct wpm_context {
  std::shared_ptr<wpm::Backend> backend;
  uint64_t id = 0;  // unique per context, so buffers know whose they are
};

struct wpm_buffer {
  uint64_t context_id = 0;
  std::shared_ptr<wpm::Storage> storage;
  size_t offset = 0;  // elements
  size_t count = 0;
  wpm_dtype dtype = WPM_F32;

  void* data() const;
};
