// main() of the emulator's tests in a sanitizer build: without a filter of
// its own (the listing that CTest discovers the tests from, or a plain run)
// it leaves out the tests that do not belong in that build, named by
// WPM_SANITIZER_EXCLUDED_TESTS (cmake/EmulatorSanitizers.cmake says why).
#include <gtest/gtest.h>

#include "excluded_tests.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (GTEST_FLAG_GET(filter) == "*") GTEST_FLAG_SET(filter, "-" WPM_SANITIZER_EXCLUDED_TESTS);
  return RUN_ALL_TESTS();
}
