#include "handles.h"

#include <mutex>
#include <unordered_set>

namespace wpm {
namespace {
std::mutex registry_mutex;
std::unordered_set<const void*>& registry() {
  static auto* live = new std::unordered_set<const void*>();  // never destroyed: safe at exit
  return *live;
}
}  // namespace

void register_handle(const void* handle) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry().insert(handle);
}

void unregister_handle(const void* handle) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry().erase(handle);
}

bool is_live_handle(const void* handle) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  return registry().count(handle) != 0;
}

}  // namespace wpm

void* wpm_buffer::data() const {
  return static_cast<char*>(storage->ptr) + offset * wpm_dtype_size(dtype);
}
