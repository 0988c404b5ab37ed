# The WORLDPM_CUDA switch: finds nvcc (AUTO: when it works, ON: or fail, OFF: never), enables the CUDA
# language and links the static CUDA runtime and the device query into libworldpm.so. Sets
# WORLDPM_CUDA_STATUS; CudaBackend.cmake then builds the kernels and the cuda backend when CMAKE_CUDA_COMPILER
# is set.
set(WORLDPM_CUDA_STATUS "no")
if(NOT WORLDPM_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT DEFINED ENV{CUDAHOSTCXX} AND NOT CMAKE_CUDA_HOST_COMPILER)
    # nvcc 11.8 refuses g++ 12; clang 14 is the host compiler it accepts (docs/architecture.md, "Building").
    find_program(WORLDPM_CLANG14 clang++-14)
    if(WORLDPM_CLANG14)
      set(ENV{CUDAHOSTCXX} ${WORLDPM_CLANG14})
    endif()
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    target_sources(worldpm PRIVATE native/src/cuda/device.cpp)
    target_include_directories(worldpm PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
    target_compile_definitions(worldpm PRIVATE WPM_HAVE_CUDA=1)
    # Static runtime: the library loads on machines without a driver and reports "no device".
    target_link_libraries(worldpm PRIVATE CUDA::cudart_static)
    set(WORLDPM_CUDA_STATUS "yes (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, host ${CMAKE_CUDA_HOST_COMPILER})")
  elseif(WORLDPM_CUDA STREQUAL "ON")
    message(FATAL_ERROR "WORLDPM_CUDA=ON but no usable nvcc was found (install nvidia-cuda-toolkit: scripts/setup.sh --cuda; nvcc 11.8 needs CUDAHOSTCXX=clang++-14)")
  else()
    set(WORLDPM_CUDA_STATUS "no: no usable nvcc found (scripts/setup.sh --cuda installs it)")
  endif()
else()
  set(WORLDPM_CUDA_STATUS "no: disabled with WORLDPM_CUDA=OFF")
endif()
