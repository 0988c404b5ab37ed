// The dl_iterate_phdr stand-in for _dl_find_object (native/src/glibc_compat.h),
// which the library's exception unwinding uses on glibc 2.34, against glibc's
// own on this machine: the same unwind tables for code in the test, in
// libworldpm and in libc, and no object for an unmapped address. And an
// exception thrown and caught inside libworldpm (whose unwinder goes through
// the wrapped _dl_find_object) is caught, not a std::terminate.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

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

TEST(GlibcCompat, AnExceptionInsideTheLibraryIsCaughtThere) {
  wpm_backend_info emu{sizeof emu};
  ASSERT_EQ(wpm_backend_query(WPM_BACKEND_EMU, &emu), WPM_OK);
  if (!emu.available) GTEST_SKIP() << "emu backend: " << emu.reason;
  // Under overcommit_memory=1 the 4 TiB allocation would succeed and the allocator would fill it.
  std::ifstream overcommit("/proc/sys/vm/overcommit_memory");
  int mode = 1;
  if (!(overcommit >> mode) || mode == 1) GTEST_SKIP() << "vm.overcommit_memory is 1: no allocation fails";
  wpm_context_options options{sizeof options, WPM_BACKEND_EMU, 1, 0};
  wpm_context* ctx = nullptr;
  ASSERT_EQ(wpm_context_create(&options, &ctx), WPM_OK) << wpm_last_error();
  // The emulator's allocator throws std::bad_alloc for 4 TiB (2^40 elements, the most a buffer may hold); its
  // caller turns that into a status.
  wpm_buffer* buffer = nullptr;
  EXPECT_EQ(wpm_buffer_alloc(ctx, WPM_F32, size_t(1) << 40, &buffer), WPM_ERR_OUT_OF_MEMORY) << wpm_last_error();
  EXPECT_EQ(buffer, nullptr);
  wpm_context_destroy(ctx);
}

}  // namespace
