// The dl_iterate_phdr stand-in for _dl_find_object (native/src/glibc_compat.h),
// which the library's exception unwinding uses on glibc 2.34, against glibc's
// own on this machine: the same unwind tables for code in the test, in
// libworldpm and in libc, and no object for an unmapped address.
#include <gtest/gtest.h>

#include <cstdio>

#include "glibc_compat.h"
#include "worldpm.h"

namespace {

void expect_same_object(void* address, const char* what) {
  SCOPED_TRACE(what);
  struct dl_find_object glibc {}, ours {};
  ASSERT_EQ(_dl_find_object(address, &glibc), 0);
  ASSERT_EQ(wpm::find_object_by_program_headers(address, &ours), 0);
  EXPECT_NE(ours.dlfo_eh_frame, nullptr);
  EXPECT_EQ(ours.dlfo_eh_frame, glibc.dlfo_eh_frame);
  EXPECT_LE(ours.dlfo_map_start, address);
  EXPECT_GT(ours.dlfo_map_end, address);
}

TEST(GlibcCompat, FindObjectAgreesWithGlibc) {
  expect_same_object(reinterpret_cast<void*>(&expect_same_object), "the test executable");
  expect_same_object(reinterpret_cast<void*>(&wpm_version), "libworldpm.so");
  expect_same_object(reinterpret_cast<void*>(&std::snprintf), "libc");
}

TEST(GlibcCompat, FindObjectFindsNothingAtAnUnmappedAddress) {
  struct dl_find_object ours {};
  EXPECT_EQ(wpm::find_object_by_program_headers(reinterpret_cast<void*>(16), &ours), -1);
}

}  // namespace
