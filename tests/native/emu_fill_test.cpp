// kernels/fill.cu under the emulator: every element of f32 / f16 / bf16 / i32
// buffers set to the bits the CPU backend stores for the same value (through
// the C ABI, an independent implementation), for odd counts and for starts 2
// bytes past a word (the 2-byte head and tail paths); the neighbours of the
// range stay untouched; the same bits in every schedule.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "emu_test_util.h"
#include "test_util.h"

namespace {

using wpm_test::Context;

struct FillCase {
  wpm_dtype dtype;
  size_t bytes;
  const char* name;
};
constexpr FillCase kCases[] = {{WPM_F32, 4, "f32"}, {WPM_F16, 2, "f16"}, {WPM_BF16, 2, "bf16"}, {WPM_I32, 4, "i32"}};

// What the CPU backend stores for wpm_buffer_fill(value): the expected bytes of every element.
std::vector<uint8_t> cpu_fill(wpm_dtype dtype, size_t n, double value) {
  Context ctx;
  wpm_buffer* buffer = nullptr;
  EXPECT_EQ(wpm_buffer_alloc(ctx, dtype, n, &buffer), WPM_OK) << wpm_last_error();
  EXPECT_EQ(wpm_buffer_fill(buffer, value), WPM_OK) << wpm_last_error();
  std::vector<uint8_t> bytes(n * (dtype == WPM_F32 || dtype == WPM_I32 ? 4 : 2));
  EXPECT_EQ(wpm_buffer_read(buffer, 0, bytes.data(), n), WPM_OK) << wpm_last_error();
  wpm_buffer_free(buffer);
  return bytes;
}

// The bit pattern the device backend hands fill_bits for the value (its conversion, checked against the CPU above).
uint32_t pattern(wpm_dtype dtype, double value) {
  switch (dtype) {
    case WPM_F16: return wpm::float_to_f16(float(value));
    case WPM_BF16: return wpm::float_to_bf16(float(value));
    case WPM_I32: return uint32_t(int32_t(value));
    default: return wpm::float_to_bits(float(value));
  }
}

// Fills n elements starting `offset` elements into an allocation of n + offset + 1 elements whose bytes are
// all 0xAB; returns the whole allocation.
std::vector<uint8_t> emu_fill(const FillCase& c, size_t n, size_t offset, double value) {
  const size_t total = (n + offset + 1) * c.bytes;
  auto* base = static_cast<uint8_t*>(emu::device_alloc(total, "fill test"));
  std::memset(base, 0xAB, total);
  const kstatus s = fill_bits(nullptr, base + offset * c.bytes, int64_t(n), int(c.bytes), pattern(c.dtype, value));
  EXPECT_EQ(s, KSTATUS_OK) << klast_error();
  EXPECT_EQ(emu::check_guards(), "");
  std::vector<uint8_t> all(base, base + total);
  emu::device_free(base);
  return all;
}

TEST(EmuFill, EveryElementHoldsTheCpuBackendsBitsAndNothingElseIsWritten) {
  for (const FillCase& c : kCases) {
    // i32 buffers take whole numbers only (the boundary rejects 0.1); 0.1 rounds differently in every float dtype.
    const std::vector<double> values = c.dtype == WPM_I32 ? std::vector<double>{0.0, 7.0, -123456789.0, 2147483647.0}
                                                          : std::vector<double>{0.0, 0.1, -3.75, 65504.0};
    for (double value : values) {
      for (size_t n : {size_t(1), size_t(2), size_t(3), size_t(17), size_t(1000), size_t(4099)}) {
        const std::vector<uint8_t> expected = cpu_fill(c.dtype, n, value);
        for (size_t offset : {size_t(0), size_t(1)}) {
          SCOPED_TRACE(std::string(c.name) + " value " + std::to_string(value) + " n " + std::to_string(n) +
                       " offset " + std::to_string(offset));
          const std::vector<uint8_t> all = emu_fill(c, n, offset, value);
          const std::vector<uint8_t> range(all.begin() + ptrdiff_t(offset * c.bytes),
                                           all.begin() + ptrdiff_t((offset + n) * c.bytes));
          EXPECT_EQ(range, expected);
          for (size_t i = 0; i < offset * c.bytes; ++i) EXPECT_EQ(all[i], 0xAB) << "byte " << i << " before the range";
          for (size_t i = (offset + n) * c.bytes; i < all.size(); ++i)
            EXPECT_EQ(all[i], 0xAB) << "byte " << i << " after the range";
        }
      }
    }
  }
}

TEST(EmuFill, SameBitsInEverySchedule) {
  for (const FillCase& c : kCases) {
    emu_test::expect_same_bits_in_every_schedule([&] { return emu_fill(c, 4099, 1, 3.0); }, c.name);
  }
}

TEST(EmuFill, RejectsAnElementSizeOtherThanTwoOrFour) {
  auto* p = emu::device_alloc(64, "fill test");
  EXPECT_EQ(fill_bits(nullptr, p, 4, 8, 0), KSTATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(klast_error()).find("elem_bytes"), std::string::npos) << klast_error();
  emu::device_free(p);
}

}  // namespace
