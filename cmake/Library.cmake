# libworldpm.so: the C ABI and the CPU backend, always built; the other modules add the optional parts
# (collectives, oneDNN, the cuda and emu backends) to the same target. Also the headers libworldpm shares with
# kernels/ (common/include), so that neither tree reaches into the other's sources for them.

# common/include: the fp16/bf16 conversions (half.h), the emulator's interface (emu.h) and the rules of a packed
# batch's offsets (packed_offsets.h). kernels/include/kemu.h includes the first two when a kernel compiles as C++;
# the CPU backend and the emulator's runtime use the same files.
add_library(worldpm_common_headers INTERFACE)
target_include_directories(worldpm_common_headers INTERFACE ${CMAKE_SOURCE_DIR}/common/include)

find_package(Threads REQUIRED)
file(GLOB WORLDPM_SOURCES CONFIGURE_DEPENDS
  native/src/*.cpp native/src/api/*.cpp native/src/cpu/*.cpp native/src/device/device_platform.cpp)
add_library(worldpm SHARED ${WORLDPM_SOURCES})
target_include_directories(worldpm PUBLIC native/include PRIVATE native/src)
target_link_libraries(worldpm PRIVATE worldpm_common_headers Threads::Threads ${CMAKE_DL_LIBS})
target_compile_options(worldpm PRIVATE -Wall -Wextra -Wno-missing-field-initializers -O3 -fno-math-errno)
# Only the C ABI is exported; everything in namespace wpm stays internal.
set_target_properties(worldpm PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
# Loads anywhere: at load time the library needs only glibc >= 2.34 (libc, libm, libdl, libpthread, librt,
# ld-linux); the C++ runtime is linked in and stays hidden, and OpenBLAS, oneDNN, MPI, NCCL are opened at run
# time. The C++ runtime's two references to newer glibc functions go to native/src/glibc_compat.cpp (--wrap);
# the version script exports the C ABI only. The test library.load_dependencies
# (scripts/check_load_dependencies.sh) holds all this.
target_link_options(worldpm PRIVATE -Wl,--no-undefined -static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL
  -Wl,--wrap=_dl_find_object -Wl,--wrap=arc4random
  -Wl,--version-script=${CMAKE_SOURCE_DIR}/native/src/exports.map)
set_property(TARGET worldpm APPEND PROPERTY LINK_DEPENDS ${CMAKE_SOURCE_DIR}/native/src/exports.map)
