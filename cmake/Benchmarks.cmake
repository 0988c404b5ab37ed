# The native benchmark programs (WORLDPM_BENCH): the GEMM rates through the C ABI and, when nvcc is there,
# the GPU benchmark that times every kernel through its kernels_cuda launcher. The workloads W1-W5 are
# `worldpm bench` (bench/WorldPM.Workloads). Their results go to bench/RESULTS.md.
option(WORLDPM_BENCH "Build the native benchmarks (worldpm_gemm_bench, worldpm_attention_bwd_bench)" ON)
if(NOT WORLDPM_BENCH)
  return()
endif()

# wpm_gemm at the reference model's shapes, fp32 against bf16 (the oneDNN path when it is active).
add_executable(worldpm_gemm_bench bench/native/gemm_rates.cpp)
target_link_libraries(worldpm_gemm_bench PRIVATE worldpm)

# The CPU attention backward at W2's shape against the 2048^3 sgemm ceiling, in thread CPU time, 1 thread.
add_executable(worldpm_attention_bwd_bench bench/native/attention_bwd_rates.cpp)
target_link_libraries(worldpm_attention_bwd_bench PRIVATE worldpm)

# The GPU benchmark (bench/gpu, `worldpm_gpu_bench`): every kernel timed through its kernels_cuda
# launcher with CUDA events, next to the device's cuBLASLt GEMM and copy ceilings measured in the same
# run. It reuses nvcc's kernel objects (CudaBackend.cmake) and the library's cuBLASLt wrapper (not
# libworldpm: it calls the launchers directly). Static runtime: without a GPU it prints one "no CUDA
# device" line and exits 0.
if(CMAKE_CUDA_COMPILER)
  file(GLOB WORLDPM_GPU_BENCH_SOURCES CONFIGURE_DEPENDS bench/gpu/*.cpp)
  add_executable(worldpm_gpu_bench ${WORLDPM_GPU_BENCH_SOURCES} native/src/cuda/cublaslt.cpp native/src/error.cpp
    $<TARGET_OBJECTS:worldpm_kernels_cuda>)
  set_target_properties(worldpm_gpu_bench PROPERTIES CUDA_ARCHITECTURES "80;90")
  target_include_directories(worldpm_gpu_bench PRIVATE native/include native/src kernels/include
    ${CUDAToolkit_INCLUDE_DIRS})
  target_compile_definitions(worldpm_gpu_bench PRIVATE WPM_KERNELS_NS=kernels_cuda)
  target_compile_options(worldpm_gpu_bench PRIVATE -Wall -Wextra -O2)
  target_link_libraries(worldpm_gpu_bench PRIVATE worldpm_common_headers CUDA::cudart_static Threads::Threads
    ${CMAKE_DL_LIBS})
  if(WORLDPM_TESTS)
    add_test(NAME gpu_bench.no_device_or_quick
      COMMAND ${CMAKE_COMMAND} -DBENCH=$<TARGET_FILE:worldpm_gpu_bench>
              -P ${CMAKE_SOURCE_DIR}/bench/gpu/no_device_or_quick.cmake)
  endif()
endif()
