#include "handles.h"

#include <deque>
#include <mutex>
#include <unordered_map>

namespace wpm {
namespace {

// "wpm-hndl": a live handle's header; a freed one's is zeroed.
constexpr uint64_t kLiveMagic = 0x6c646e682d6d7077;

struct Registration {
  HandleKind kind;
  uint32_t generation;
  const HandleHeader* header;
};

std::mutex registry_mutex;
uint32_t next_generation = 1;  // guarded by registry_mutex

std::unordered_map<const void*, Registration>& registry() {
  static auto* live = new std::unordered_map<const void*, Registration>();  // never destroyed: safe at exit
  return *live;
}

std::mutex quarantine_mutex;
std::deque<void*>& quarantine() {  // oldest first; never destroyed, like the registry
  static auto* held = new std::deque<void*>();
  return *held;
}

}  // namespace

const char* handle_kind_name(HandleKind kind) {
  switch (kind) {
    case HandleKind::context: return "context";
    case HandleKind::buffer: return "buffer";
    case HandleKind::comm: return "communicator";
    case HandleKind::graph: return "graph";
  }
  return "unknown handle";
}

void register_handle(const void* handle, HandleHeader* header, HandleKind kind) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  const uint32_t generation = next_generation++;
  header->magic = kLiveMagic;
  header->kind = kind;
  header->generation = generation;
  registry()[handle] = Registration{kind, generation, header};
}

void unregister_handle(const void* handle, HandleHeader* header) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry().erase(handle);
  *header = HandleHeader{};
}

void quarantine_handle_memory(void* memory) {
  void* oldest = nullptr;
  {
    std::lock_guard<std::mutex> lock(quarantine_mutex);
    quarantine().push_back(memory);
    if (quarantine().size() <= kHandleQuarantine) return;
    oldest = quarantine().front();
    quarantine().pop_front();
  }
  ::operator delete(oldest);
}

HandleLookup look_up_handle(const void* handle, HandleKind expected) {
  if (handle == nullptr) return {HandleProblem::null, expected};
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto found = registry().find(handle);
  if (found == registry().end()) return {HandleProblem::unknown, expected};
  const Registration& entry = found->second;
  if (entry.kind != expected) return {HandleProblem::wrong_kind, entry.kind};
  const HandleHeader& header = *entry.header;  // registered and of this kind: safe to read
  if (header.magic != kLiveMagic || header.kind != entry.kind || header.generation != entry.generation)
    return {HandleProblem::damaged, entry.kind};
  return {HandleProblem::none, entry.kind};
}

}  // namespace wpm

void* wpm_buffer::data() const {
  return static_cast<char*>(storage->ptr) + offset * wpm_dtype_size(dtype);
}
