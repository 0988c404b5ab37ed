// What the opaque handles of the C ABI are, and the registry that tells a live
// handle of the expected kind from anything else a caller may pass.
#pragma once

#include <atomic>
#include <cstddef>
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

// Every opaque type worldpm.h declares.
enum class HandleKind : uint32_t { context = 1, buffer = 2, comm = 3, graph = 4 };

// "context", "buffer", "communicator", "graph": as messages name them.
const char* handle_kind_name(HandleKind kind);

// The first member of every handle object. The registry stamps it when the handle
// is registered and clears it when the handle goes; it is read only after the
// registry has vouched for the pointer and its kind, and checked before any other
// field, so memory overwritten behind a live handle is reported, not trusted.
struct HandleHeader {
  uint64_t magic = 0;
  HandleKind kind{};
  uint32_t generation = 0;  // which registration this object is: a reused address gets a new one
};

// Enters a new handle object in the registry of live handles.
void register_handle(const void* handle, HandleHeader* header, HandleKind kind);
// Removes it and clears its header (the object is destroyed right after).
void unregister_handle(const void* handle, HandleHeader* header);
// Takes the memory of a destroyed handle object. It is given back to the allocator
// only after kHandleQuarantine later ones: a handle freed recently is not yet at an
// address a new handle may get, so passing it again is reported, not taken for the new one.
void quarantine_handle_memory(void* memory);
constexpr size_t kHandleQuarantine = 4096;

template <class Handle>
void register_handle(Handle* handle) {
  register_handle(handle, &handle->header, Handle::kKind);
}
// The one way a handle object goes: out of the registry, destroyed, its memory quarantined.
template <class Handle>
void destroy_handle(Handle* handle) {
  unregister_handle(handle, &handle->header);
  handle->~Handle();
  quarantine_handle_memory(handle);
}

// What a pointer passed as a handle of some kind turned out to be. The lookup never
// reads through a pointer the registry does not hold as a live handle.
enum class HandleProblem {
  none,        // a live handle of the expected kind, header intact
  null,        // NULL
  unknown,     // not a live handle: freed, never created, or not the library's
  wrong_kind,  // a live handle of another kind (actual says which)
  damaged,     // registered with the expected kind, but its header no longer matches
};
struct HandleLookup {
  HandleProblem problem;
  HandleKind actual;  // the registered kind, for wrong_kind and damaged
};
HandleLookup look_up_handle(const void* handle, HandleKind expected);

}  // namespace wpm

struct wpm_context {
  static constexpr wpm::HandleKind kKind = wpm::HandleKind::context;
  wpm::HandleHeader header;
  std::shared_ptr<wpm::Backend> backend;
  uint64_t id = 0;  // unique per context, so buffers know whose they are
};

struct wpm_buffer {
  static constexpr wpm::HandleKind kKind = wpm::HandleKind::buffer;
  wpm::HandleHeader header;
  uint64_t context_id = 0;
  std::shared_ptr<wpm::Storage> storage;
  size_t offset = 0;  // elements
  size_t count = 0;
  wpm_dtype dtype = WPM_F32;

  void* data() const;
};
