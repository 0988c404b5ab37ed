# The cuda backend, when Cuda.cmake found nvcc: kernels/*.cu compiled by nvcc for sm_80 and sm_90 (namespace
# kernels_cuda) and the shared device host code native/src/device/device_backend.cpp on the CUDA platform
# (stream, caching allocator, cuBLASLt opened at run time), all linked into libworldpm.so.
if(NOT CMAKE_CUDA_COMPILER)
  return()
endif()

# Every kernel must compile for the GPU: an object library in the default
# build, so `cmake --build` fails when nvcc or ptxas rejects a kernel.
# -DWORLDPM_PTXAS_VERBOSE=ON prints registers, shared memory and spills.
option(WORLDPM_PTXAS_VERBOSE "Print ptxas resource usage of the kernels" OFF)
add_library(worldpm_kernels_cuda OBJECT ${WORLDPM_KERNEL_SOURCES})
set_target_properties(worldpm_kernels_cuda PROPERTIES
  CUDA_ARCHITECTURES "80;90" CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON POSITION_INDEPENDENT_CODE ON
  CUDA_VISIBILITY_PRESET hidden)
target_include_directories(worldpm_kernels_cuda PRIVATE kernels/include)
target_link_libraries(worldpm_kernels_cuda PRIVATE worldpm_common_headers)
target_compile_definitions(worldpm_kernels_cuda PRIVATE WPM_KERNELS_NS=kernels_cuda)
if(WORLDPM_PTXAS_VERBOSE)
  target_compile_options(worldpm_kernels_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-v>)
endif()
message(STATUS "WorldPM kernels: nvcc for sm_80 and sm_90 (${CMAKE_CUDA_COMPILER})")

# The cuda backend: the shared device host code on the CUDA platform, with nvcc's kernel objects.
add_library(worldpm_device_cuda OBJECT native/src/device/device_backend.cpp native/src/cuda/cuda_platform.cpp
  native/src/cuda/caching_allocator.cpp native/src/cuda/cublaslt.cpp native/src/cuda/upload_staging.cpp)
set_target_properties(worldpm_device_cuda PROPERTIES POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
target_include_directories(worldpm_device_cuda PRIVATE native/include native/src kernels/include
  ${CUDAToolkit_INCLUDE_DIRS})
target_link_libraries(worldpm_device_cuda PRIVATE worldpm_common_headers)
target_compile_definitions(worldpm_device_cuda PRIVATE WPM_KERNELS_NS=kernels_cuda)
target_compile_options(worldpm_device_cuda PRIVATE -Wall -Wextra -Wno-missing-field-initializers -O2)
target_sources(worldpm PRIVATE $<TARGET_OBJECTS:worldpm_device_cuda> $<TARGET_OBJECTS:worldpm_kernels_cuda>)
# worldpm was created before enable_language(CUDA), so it has no CUDA_ARCHITECTURES of its own, and
# CMake (CMP0104) refuses to generate a target holding CUDA objects without one.
set_target_properties(worldpm PROPERTIES CUDA_ARCHITECTURES "80;90")
target_compile_definitions(worldpm PRIVATE WPM_HAVE_CUDA_BACKEND=1)
