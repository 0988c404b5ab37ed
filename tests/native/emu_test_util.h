// Helpers for the emulator tests: the schedules every emulated result is checked
// under (five fiber orders, two more block orders), and a scope that sets one and
// restores the previous config.
#pragma once

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kemu.h"
#include "worldpm.h"

namespace emu_test {

struct Schedule {
  emu::Order order;
  uint64_t seed;
  const char* name;  // as WORLDPM_EMU_SCHEDULE writes it
  emu::BlockOrder block_order = emu::BlockOrder::forward;
  uint64_t block_seed = 0;
};

// The first is the reference the others are compared with.
inline const std::vector<Schedule>& schedules() {
  static const std::vector<Schedule> all = {
      {emu::Order::forward, 0, "forward"},
      {emu::Order::reverse, 0, "reverse"},
      {emu::Order::greedy, 0, "greedy"},
      {emu::Order::random, 1, "random:1"},
      {emu::Order::random, 2, "random:2"},
      {emu::Order::forward, 0, "forward,blocks=reverse", emu::BlockOrder::reverse},
      {emu::Order::forward, 0, "forward,blocks=random:1", emu::BlockOrder::random, 1}};
  return all;
}

class ConfigScope {
 public:
  ConfigScope() : saved_(emu::config()) {}
  explicit ConfigScope(const Schedule& s) : ConfigScope() {
    emu::Config c = saved_;
    c.order = s.order;
    c.seed = s.seed;
    c.block_order = s.block_order;
    c.block_seed = s.block_seed;
    emu::set_config(c);
  }
  ~ConfigScope() { emu::set_config(saved_); }
  ConfigScope(const ConfigScope&) = delete;
  ConfigScope& operator=(const ConfigScope&) = delete;
  void set(const emu::Config& c) { emu::set_config(c); }
  const emu::Config& saved() const { return saved_; }

 private:
  emu::Config saved_;
};

// Runs the launch and returns LaunchError's message ("" when it succeeded).
template <class F>
std::string launch_error(F&& launch) {
  try {
    launch();
  } catch (const emu::LaunchError& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& text, const std::string& word) { return text.find(word) != std::string::npos; }

// "file:line", as the emulator's messages name a call site.
inline std::string site(const char* file, int line) { return std::string(file) + ":" + std::to_string(line); }

// The storage dtypes, named for both sides: the C ABI (CPU backend) and the launchers.
struct DtypeCase {
  wpm_dtype wpm;
  kdtype kd;
};
inline constexpr DtypeCase kDtypes[] = {{WPM_F32, kdtype::f32}, {WPM_F16, kdtype::f16}, {WPM_BF16, kdtype::bf16}};

// An emulated device buffer of n elements in a kdtype's storage (or int32 via
// the *_i32 calls), with guard bytes (emu::device_alloc), optionally starting
// `offset` elements past a 16-byte boundary. Values cross as float.
class DeviceArray {
 public:
  DeviceArray(kdtype dtype, size_t n, size_t offset = 0) : dtype_(dtype), n_(n) {
    base_ = static_cast<char*>(emu::device_alloc((n + offset + 1) * size(), "emu test"));
    data_ = base_ + offset * size();
  }
  DeviceArray(kdtype dtype, const std::vector<float>& values, size_t offset = 0)
      : DeviceArray(dtype, values.size(), offset) {
    upload(values);
  }
  explicit DeviceArray(const std::vector<int32_t>& values) : DeviceArray(kdtype::f32, values.size()) {
    std::memcpy(data_, values.data(), values.size() * 4);
  }
  ~DeviceArray() { emu::device_free(base_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  size_t size() const { return dtype_ == kdtype::f32 ? 4 : 2; }
  size_t count() const { return n_; }
  void* data() const { return data_; }
  template <class T>
  T* as() const { return reinterpret_cast<T*>(data_); }

  void upload(const std::vector<float>& v) {
    for (size_t i = 0; i < n_; ++i) {
      if (dtype_ == kdtype::f32) {
        std::memcpy(data_ + 4 * i, &v[i], 4);
      } else {
        const uint16_t h = dtype_ == kdtype::f16 ? wpm::float_to_f16(v[i]) : wpm::float_to_bf16(v[i]);
        std::memcpy(data_ + 2 * i, &h, 2);
      }
    }
  }
  void poison() { std::memset(data_, 0xFF, n_ * size()); }  // NaN in every dtype
  std::vector<float> download() const {
    std::vector<float> out(n_);
    for (size_t i = 0; i < n_; ++i) {
      if (dtype_ == kdtype::f32) {
        std::memcpy(&out[i], data_ + 4 * i, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, data_ + 2 * i, 2);
        out[i] = dtype_ == kdtype::f16 ? wpm::f16_to_float(h) : wpm::bf16_to_float(h);
      }
    }
    return out;
  }
  std::vector<uint8_t> bytes() const { return std::vector<uint8_t>(data_, data_ + n_ * size()); }

 private:
  kdtype dtype_;
  size_t n_;
  char* base_;
  char* data_;
};

// Runs `run` (which launches and returns the output bytes) in every schedule and
// expects the same bytes each time.
inline void expect_same_bits_in_every_schedule(const std::function<std::vector<uint8_t>()>& run,
                                               const std::string& label) {
  std::vector<uint8_t> first;
  for (const Schedule& s : schedules()) {
    ConfigScope scope(s);
    const std::vector<uint8_t> bytes = run();
    if (&s == &schedules().front()) {
      first = bytes;
      EXPECT_FALSE(first.empty()) << label;
    } else {
      EXPECT_EQ(bytes, first) << label << ": " << s.name << " differs from " << schedules().front().name;
    }
  }
}

}  // namespace emu_test
using namespace WPM_KERNELS_NS;  // the emulator build of the launchers (kernels_emu)
