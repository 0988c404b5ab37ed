// A map of at most `capacity` entries that drops the least recently used one
// to make room: for state that is costly to build and cheap to keep, looked up
// far more often than made (the cuda backend's cuBLASLt plans, one per GEMM
// shape). Not thread-safe: each owner (a context) keeps its own.
#pragma once

#include <cstddef>
#include <list>
#include <unordered_map>
#include <utility>

namespace wpm {

template <class Key, class Value, class Hash = std::hash<Key>>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // The value under key, now the most recently used, or null.
  Value* find(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // Stores value under key (replacing one already there) as the most recently used; when that makes one entry
  // too many, the least recently used is destroyed. The reference stays valid until that entry is dropped.
  Value& insert(const Key& key, Value value) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return order_.front().second;
  }

  // Destroys every entry.
  void clear() {
    index_.clear();
    order_.clear();
  }

  size_t size() const { return order_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  using Entry = std::pair<Key, Value>;
  size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<Key, typename std::list<Entry>::iterator, Hash> index_;
};

}  // namespace wpm
