# The native test suite under CTest (WORLDPM_TESTS): the GoogleTest binary with the CPU backend's and the
# emulated kernels' tests, the library's load-time checks, the collectives under mpirun, and the CPU paths that
# a feature switch hides. The GPU benchmark's smoke test lives with it in Benchmarks.cmake, the SASS checks
# in Checks.cmake.
if(NOT WORLDPM_TESTS)
  return()
endif()

enable_testing()
find_package(GTest REQUIRED)
file(GLOB WORLDPM_TEST_SOURCES CONFIGURE_DEPENDS tests/native/*.cpp)
# The library exports only the C ABI; internal units tested directly are compiled into the test too.
add_executable(worldpm_native_tests ${WORLDPM_TEST_SOURCES} native/src/cpu/convert.cpp
  native/src/cpu/thread_pool.cpp native/src/cpu/register_block.cpp native/src/cpu/cpu_features.cpp
  native/src/glibc_compat.cpp)
target_include_directories(worldpm_native_tests PRIVATE native/include native/src tests/native)
# The handle confusion tests read the prototypes of the header they are built against.
set(WORLDPM_HEADER_DEFINITION WORLDPM_HEADER_PATH="${CMAKE_SOURCE_DIR}/native/include/worldpm.h")
target_compile_definitions(worldpm_native_tests PRIVATE ${WORLDPM_HEADER_DEFINITION})
target_link_libraries(worldpm_native_tests PRIVATE worldpm worldpm_common_headers GTest::gtest GTest::gtest_main
  Threads::Threads)
file(GLOB WORLDPM_EMU_TESTS CONFIGURE_DEPENDS tests/native/emu_*_test.cpp)
if(TARGET worldpm_emu)
  target_link_libraries(worldpm_native_tests PRIVATE worldpm_emu)
  # Their kernels get the same checks as kernels/ (Emulator.cmake).
  set_source_files_properties(${WORLDPM_EMU_TESTS} PROPERTIES COMPILE_OPTIONS "${WORLDPM_EMU_KERNEL_CHECKS}")
else()
  # Without the emulator its kernel tests have nothing to run against.
  set_source_files_properties(${WORLDPM_EMU_TESTS} PROPERTIES HEADER_FILE_ONLY ON)
endif()
include(GoogleTest)
# MissingRuntimeLibraries.* run only as library.without_onednn_and_mpi below, with the libraries hidden.
# The hardware-numerics build (Emulator.cmake) also sums mma products with the tensor-core model.
set(WORLDPM_TEST_PROPERTIES "")
if(WORLDPM_EMU_HARDWARE_NUMERICS)
  set(WORLDPM_TEST_PROPERTIES PROPERTIES ENVIRONMENT WORLDPM_EMU_MMA=truncate)
endif()
gtest_discover_tests(worldpm_native_tests DISCOVERY_TIMEOUT 60 TEST_FILTER -MissingRuntimeLibraries.*
  ${WORLDPM_TEST_PROPERTIES})

# The emu backend with WORLDPM_EMU_QUEUE=deferred: launches wait on a stream until the next synchronising call,
# so the planted host ordering bugs of EmuQueue.* must show, and the C ABI's emu tests must pass as they are.
if(TARGET worldpm_emu)
  add_test(NAME emu.deferred_queue COMMAND worldpm_native_tests --gtest_filter=EmuQueue.*:WrapEmu.*:EmuGraph.*)
  set_tests_properties(emu.deferred_queue PROPERTIES ENVIRONMENT WORLDPM_EMU_QUEUE=deferred)
endif()

# The host code that talks to vendor libraries, against in-process fakes (tests/native/vendor): the cuda
# communicator's NCCL calls always; the cuda backend's cuBLASLt GEMM only where the CUDA toolkit's cublasLt.h is
# found (cublaslt.cpp takes its types from it), else the CublasLtGemm and FakeCublasLt suites are not built.
find_path(WORLDPM_CUBLASLT_INCLUDE_DIR cublasLt.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
add_executable(worldpm_vendor_tests tests/native/vendor/fake_nccl.cpp tests/native/vendor/nccl_calls_test.cpp
  native/src/comm/nccl_calls.cpp)
if(WORLDPM_CUBLASLT_INCLUDE_DIR)
  target_sources(worldpm_vendor_tests PRIVATE tests/native/vendor/fake_cublaslt.cpp
    tests/native/vendor/cublaslt_test.cpp native/src/cuda/cublaslt.cpp native/src/error.cpp)
  target_include_directories(worldpm_vendor_tests PRIVATE ${WORLDPM_CUBLASLT_INCLUDE_DIR})
  message(STATUS "WorldPM vendor tests: NCCL and cuBLASLt fakes (cublasLt.h in ${WORLDPM_CUBLASLT_INCLUDE_DIR})")
else()
  message(STATUS "WorldPM vendor tests: NCCL fake only (no cublasLt.h: the cuBLASLt GEMM tests are not built)")
endif()
target_include_directories(worldpm_vendor_tests PRIVATE native/include native/src tests/native/vendor)
target_link_libraries(worldpm_vendor_tests PRIVATE worldpm_common_headers GTest::gtest GTest::gtest_main
  Threads::Threads ${CMAKE_DL_LIBS})
gtest_discover_tests(worldpm_vendor_tests DISCOVERY_TIMEOUT 60)

# The load-time dependencies and exported symbols of the library itself.
add_test(NAME library.load_dependencies
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/check_load_dependencies.sh $<TARGET_FILE:worldpm>)
# Without oneDNN and MPI (the overrides name a missing file) the library still loads, says what is missing,
# and an MPI call fails with a status instead of crashing.
add_test(NAME library.without_onednn_and_mpi COMMAND worldpm_native_tests --gtest_filter=MissingRuntimeLibraries.*)
set_tests_properties(library.without_onednn_and_mpi PROPERTIES ENVIRONMENT
  "WORLDPM_ONEDNN_LIBRARY=/nonexistent/libdnnl.so.2;WORLDPM_MPI_LIBRARY=/nonexistent/libmpi.so.40")

# The collectives: one binary, run as a world of one and under mpirun with two ranks.
if(WORLDPM_MPI_HEADER_IS_OPENMPI)
  file(GLOB WORLDPM_COMM_TEST_SOURCES CONFIGURE_DEPENDS tests/native/comm/*.cpp)
  add_executable(worldpm_comm_tests ${WORLDPM_COMM_TEST_SOURCES})
  target_include_directories(worldpm_comm_tests PRIVATE native/include native/src tests/native)
  target_compile_definitions(worldpm_comm_tests PRIVATE ${WORLDPM_HEADER_DEFINITION})
  target_link_libraries(worldpm_comm_tests PRIVATE worldpm worldpm_common_headers GTest::gtest Threads::Threads)
  find_program(WORLDPM_MPIEXEC NAMES mpirun mpiexec REQUIRED)
  # As root OpenMPI needs --allow-run-as-root; --oversubscribe lets 2 ranks share fewer cores.
  set(WORLDPM_MPIRUN ${WORLDPM_MPIEXEC} --allow-run-as-root --oversubscribe)
  add_test(NAME comm.single COMMAND worldpm_comm_tests --gtest_filter=-StoppedRank.*:StoppedBeforeStart.*)
  add_test(NAME comm.mpirun_np2 COMMAND ${WORLDPM_MPIRUN} -np 2 $<TARGET_FILE:worldpm_comm_tests>
           --gtest_filter=-StoppedRank.*:StoppedBeforeStart.*)
  add_test(NAME comm.stopped_rank COMMAND ${WORLDPM_MPIRUN} -np 2 $<TARGET_FILE:worldpm_comm_tests>
           --gtest_filter=StoppedRank.*)
  # Rank 1 stops before MPI starts; mpirun then ends non-zero by design (rank 0 leaves without MPI_Finalize), so
  # rank 0's gtest verdict decides, and the timeout catches a launch that does not end.
  add_test(NAME comm.stopped_before_start COMMAND ${WORLDPM_MPIRUN} -np 2 -x WORLDPM_TEST_STOP_RANK_BEFORE_MPI_START=1
           $<TARGET_FILE:worldpm_comm_tests> --gtest_filter=StoppedBeforeStart.* --gtest_color=no)
  set_tests_properties(comm.stopped_before_start PROPERTIES TIMEOUT 60
    PASS_REGULAR_EXPRESSION "\\[  PASSED  \\] 1 test" FAIL_REGULAR_EXPRESSION "\\[  FAILED  \\]")
  # The emu backend's collectives in its deferred queue mode, where they run at the stream's drains.
  add_test(NAME comm.single_deferred COMMAND worldpm_comm_tests --gtest_filter=*emu*:*Emu*-StoppedRank.*)
  set_tests_properties(comm.single_deferred PROPERTIES ENVIRONMENT WORLDPM_EMU_QUEUE=deferred)
  add_test(NAME comm.mpirun_np2_deferred COMMAND ${WORLDPM_MPIRUN} -np 2 -x WORLDPM_EMU_QUEUE=deferred
           $<TARGET_FILE:worldpm_comm_tests> --gtest_filter=*emu*:*Emu*-StoppedRank.*)
  add_test(NAME comm.stopped_rank_deferred COMMAND ${WORLDPM_MPIRUN} -np 2 -x WORLDPM_EMU_QUEUE=deferred
           $<TARGET_FILE:worldpm_comm_tests> --gtest_filter=StoppedRank.OnEmu*)
  set_tests_properties(comm.single comm.mpirun_np2 comm.stopped_rank comm.single_deferred comm.mpirun_np2_deferred
                       comm.stopped_rank_deferred PROPERTIES TIMEOUT 120)
  set_tests_properties(comm.mpirun_np2 comm.stopped_rank comm.stopped_before_start comm.mpirun_np2_deferred
                       comm.stopped_rank_deferred PROPERTIES RUN_SERIAL ON)
endif()

# The CPU attention takes its fused AVX-512 forward wherever the CPU has AVX-512; this run takes the
# portable path on the same machine (tiles through the AVX2 register block), and the baseline run the
# scalar register block and OpenBLAS's tile products.
add_test(NAME cpu_attention_without_avx512 COMMAND worldpm_native_tests
  --gtest_filter=Attention.*:Backends/AttentionPacked.*/cpu:RegisterBlock.*)
set_tests_properties(cpu_attention_without_avx512 PROPERTIES ENVIRONMENT WORLDPM_CPU_MAX_ISA=avx2)
add_test(NAME cpu_attention_baseline_isa COMMAND worldpm_native_tests --gtest_filter=Attention.*:RegisterBlock.*)
set_tests_properties(cpu_attention_baseline_isa PROPERTIES ENVIRONMENT WORLDPM_CPU_MAX_ISA=baseline)
