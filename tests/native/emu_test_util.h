// Helpers for the emulator tests: the four schedules every emulated result is
// checked under, and a scope that sets one and restores the previous config.
#pragma once

#include <string>
#include <vector>

#include "kemu.h"

namespace emu_test {

struct Schedule {
  emu::Order order;
  uint64_t seed;
  const char* name;
};

inline const std::vector<Schedule>& schedules() {
  static const std::vector<Schedule> all = {{emu::Order::forward, 0, "forward"},
                                            {emu::Order::reverse, 0, "reverse"},
                                            {emu::Order::random, 1, "random:1"},
                                            {emu::Order::random, 2, "random:2"}};
  return all;
}

class ConfigScope {
 public:
  ConfigScope() : saved_(emu::config()) {}
  explicit ConfigScope(const Schedule& s) : ConfigScope() {
    emu::Config c = saved_;
    c.order = s.order;
    c.seed = s.seed;
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

}  // namespace emu_test
