# The sanitizer flags of the project's sanitized builds, and WORLDPM_SANITIZE, the native suite under them.
#
# WORLDPM_SANITIZER_FLAGS: AddressSanitizer and UBSan, every report fatal (a test or fuzz run fails on it).
# Not the enum check: the C ABI's enums come from C (and P/Invoke) as any int, which C allows; C++ calls a
# value outside the enumerators undefined, but neither compiler narrows an enum without -fstrict-enums, and
# the library range-checks every enum argument itself (the tests and the fuzzer pass out-of-range ones).
set(WORLDPM_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize=enum -fno-sanitize-recover=all
  -fno-omit-frame-pointer -g)

# WORLDPM_SANITIZE=ON: every target of this build directory (libworldpm.so and the native tests) with those
# flags; scripts/test.sh runs the native suite so in build/native-asan-lib. Included before the targets.
option(WORLDPM_SANITIZE "Build the library and the native tests with AddressSanitizer and UBSan" OFF)
if(WORLDPM_SANITIZE)
  add_compile_options(${WORLDPM_SANITIZER_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()
