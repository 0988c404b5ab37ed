# The libFuzzer targets (WORLDPM_FUZZ, its own build directory configured with clang: scripts/fuzz.sh):
#   worldpm_fuzz_abi_calls    sequences of C ABI calls with arbitrary arguments and handles, cpu backend
#   worldpm_fuzz_env_parsers  the parsers of the launcher's environment and of WORLDPM_EMU_SCHEDULE / _MMA
# Both run under AddressSanitizer and UBSan (WORLDPM_SANITIZER_FLAGS, Sanitize.cmake: a report stops the run
# and libFuzzer keeps the input). They link a static copy of libworldpm's own sources (the
# shared library hides everything but the C ABI and links the C++ runtime statically, which the
# sanitizers' runtimes cannot share), built with the fuzzer's coverage instrumentation; the emu backend
# is left out (its kernels are minutes of sanitized compiling and the ABI's checks are the same code),
# and so are the kernels of the emulator the parsers come from.
option(WORLDPM_FUZZ "Build the libFuzzer targets (needs clang and its compiler-rt)" OFF)
if(NOT WORLDPM_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "WORLDPM_FUZZ needs clang (CXX=clang++-14), not ${CMAKE_CXX_COMPILER_ID}")
endif()

# libworldpm's sources and settings, less the emu backend.
get_target_property(fuzz_sources worldpm SOURCES)
list(FILTER fuzz_sources EXCLUDE REGEX "TARGET_OBJECTS")
get_target_property(fuzz_definitions worldpm COMPILE_DEFINITIONS)
list(REMOVE_ITEM fuzz_definitions WPM_HAVE_EMU=1)
get_target_property(fuzz_includes worldpm INCLUDE_DIRECTORIES)
add_library(worldpm_fuzz_core STATIC ${fuzz_sources})
target_include_directories(worldpm_fuzz_core PUBLIC ${fuzz_includes})
target_compile_definitions(worldpm_fuzz_core PRIVATE ${fuzz_definitions})
target_compile_options(worldpm_fuzz_core PUBLIC ${WORLDPM_SANITIZER_FLAGS} PRIVATE -fsanitize=fuzzer-no-link -O1)
target_link_libraries(worldpm_fuzz_core PUBLIC worldpm_common_headers Threads::Threads ${CMAKE_DL_LIBS})
# clang 14 refuses the 64-byte vector returns of the attention tiles' baseline clone unless the compiled-for
# ISA has AVX-512 (GCC only warns, and they are always inlined), and the 32-byte ones of 8 lanes without AVX:
# 8 lanes for an AVX2 baseline, so the build is the same on AVX2 and AVX-512 hosts (-march=native failed on
# an AVX2 one) and runs on any x86-64 with AVX2. (The property is the source file's in this directory, which
# builds only fuzz targets.)
set_source_files_properties(native/src/cpu/attention_tiles.cpp PROPERTIES
  COMPILE_OPTIONS "-mavx2;-mfma" COMPILE_DEFINITIONS WPM_ATTENTION_TILE_LANES=8)

add_executable(worldpm_fuzz_abi_calls tests/fuzz/abi_calls_fuzz.cpp)
target_link_libraries(worldpm_fuzz_abi_calls PRIVATE worldpm_fuzz_core)
target_link_options(worldpm_fuzz_abi_calls PRIVATE -fsanitize=fuzzer,address,undefined)

# The emulator's runtime without its kernels (and without its alignment handler, which would stand in
# for UBSan's own, nor the kernels' access hooks), for parse_schedule and parse_mma_accumulate.
if(TARGET worldpm_emu)
  get_target_property(fuzz_emu_sources worldpm_emu SOURCES)
  list(FILTER fuzz_emu_sources EXCLUDE REGEX "emu_kernels/|ubsan_alignment|memory_access_hooks")
  add_library(worldpm_fuzz_emu_runtime STATIC ${fuzz_emu_sources})
  target_include_directories(worldpm_fuzz_emu_runtime PUBLIC kernels/include native/emu)
  target_compile_options(worldpm_fuzz_emu_runtime PUBLIC ${WORLDPM_SANITIZER_FLAGS} PRIVATE -fsanitize=fuzzer-no-link -O1)
  target_link_libraries(worldpm_fuzz_emu_runtime PUBLIC worldpm_common_headers Boost::context Threads::Threads)

  add_executable(worldpm_fuzz_env_parsers tests/fuzz/env_parsers_fuzz.cpp native/src/comm/launch_env.cpp)
  target_include_directories(worldpm_fuzz_env_parsers PRIVATE native/src)
  target_link_libraries(worldpm_fuzz_env_parsers PRIVATE worldpm_fuzz_emu_runtime)
  target_compile_options(worldpm_fuzz_env_parsers PRIVATE -fsanitize=fuzzer-no-link)
  target_link_options(worldpm_fuzz_env_parsers PRIVATE -fsanitize=fuzzer,address,undefined)
  set(WORLDPM_FUZZ_STATUS "abi_calls, env_parsers")
else()
  set(WORLDPM_FUZZ_STATUS "abi_calls (env_parsers needs the emulator's runtime: ${WORLDPM_EMU_STATUS})")
endif()
message(STATUS "WorldPM fuzz targets: ${WORLDPM_FUZZ_STATUS}")
