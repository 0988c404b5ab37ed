// The one conversion between wpm_dtype (the C ABI) and kdtype (the kernels), for every value:
// each float dtype maps to the kdtype of its name and back.
#include <gtest/gtest.h>

#include <string>

#include "device/dtype_conversion.h"

namespace {

struct Named {
  wpm_dtype abi;
  kdtype kernels;
  const char* name;
};

// Spelled out by hand from worldpm.h and kernels.h, not derived from the functions under test.
constexpr Named kFloatDtypes[] = {{WPM_F32, kdtype::f32, "f32"}, {WPM_F16, kdtype::f16, "f16"},
                                  {WPM_BF16, kdtype::bf16, "bf16"}};

TEST(DtypeConversion, EveryFloatDtypeMapsToTheKernelTypeOfItsNameAndBack) {
  for (const Named& d : kFloatDtypes) {
    SCOPED_TRACE(d.name);
    EXPECT_EQ(wpm::to_kdtype(d.abi), d.kernels);
    EXPECT_EQ(wpm::to_wpm_dtype(d.kernels), d.abi);
    EXPECT_EQ(wpm_dtype_size(d.abi), d.kernels == kdtype::f32 ? 4u : 2u);
  }
}

TEST(DtypeConversion, EveryKernelTypeIsAFloatDtypeOfTheAbi) {
  for (kdtype k : {kdtype::f32, kdtype::f16, kdtype::bf16}) {
    wpm_dtype abi = wpm::to_wpm_dtype(k);
    EXPECT_NE(abi, WPM_I32);
    EXPECT_EQ(wpm::to_kdtype(abi), k);
  }
}

}  // namespace
