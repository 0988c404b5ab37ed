// Tests parameterised over the backends that run on a machine without a GPU: cpu and
// emu. A backend this library was built without (or cannot start) skips its cases.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "worldpm.h"

namespace wpm_test {

struct HostBackend {
  wpm_backend kind;
  const char* name;
};

inline const HostBackend kHostBackends[] = {{WPM_BACKEND_CPU, "cpu"}, {WPM_BACKEND_EMU, "emu"}};

// A fixture whose parameter is the backend; SetUp skips when that backend is unavailable.
class HostBackendTest : public testing::TestWithParam<HostBackend> {
 protected:
  void SetUp() override {
    wpm_backend_info info{};
    info.struct_size = sizeof info;
    if (wpm_backend_query(GetParam().kind, &info) != WPM_OK || !info.available)
      GTEST_SKIP() << GetParam().name << " is not available: " << info.reason;
  }
};

inline std::string host_backend_label(const testing::TestParamInfo<HostBackend>& info) { return info.param.name; }

}  // namespace wpm_test

#define WPM_INSTANTIATE_HOST_BACKENDS(suite) \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, testing::ValuesIn(wpm_test::kHostBackends), wpm_test::host_backend_label)
