# The sanitizer builds of the emulator (WORLDPM_EMU_SANITIZE=thread|address, set in Emulator.cmake; one build
# directory each, e.g. build/native-tsan and build/native-asan). They replace the native suite with:
# - emu.<sanitizer>.* : a subset of the emulator's own tests (small shapes, every schedule where the test has
#   one), which must pass without a single sanitizer report (any report fails the test's process);
# - emu.<sanitizer>.probe.* : planted bugs in their own process, passing only when the sanitizer's report
#   names them, and their correct twins, passing only without a report.
# Only the emulator and the tests are instrumented; libworldpm.so (the CPU backend the kernel tests compare
# against) is the ordinary build, without the emu backend.
if(NOT WORLDPM_EMU_SANITIZE)
  return()
endif()
if(NOT TARGET worldpm_emu)
  message(FATAL_ERROR "WORLDPM_EMU_SANITIZE needs the emulator: ${WORLDPM_EMU_STATUS}")
endif()
set(WORLDPM_TESTS OFF)  # the native suite itself is the ordinary build's (Tests.cmake)

enable_testing()
find_package(GTest REQUIRED)
include(GoogleTest)
set(san ${WORLDPM_EMU_SANITIZE})
if(san STREQUAL "thread")
  set(san_name tsan)
else()
  set(san_name asan)
endif()

# The emulator's tests that fit a sanitizer pass of a few minutes on two cores: the runtime's own suites and
# the kernels with shared memory, barriers, warp collectives and cp.async (attention, forward and backward).
# The elementwise and row kernels' suites take minutes each under TSan and are left out.
set(WORLDPM_EMU_SANITIZER_TEST_SOURCES
  emu_runtime_test emu_errors_test emu_mma_test emu_ldmatrix_test emu_cp_async_test emu_block_reduce_test
  emu_attention_test emu_attention_bwd_test)
list(TRANSFORM WORLDPM_EMU_SANITIZER_TEST_SOURCES PREPEND tests/native/)
list(TRANSFORM WORLDPM_EMU_SANITIZER_TEST_SOURCES APPEND .cpp)
add_executable(worldpm_emu_sanitizer_tests ${WORLDPM_EMU_SANITIZER_TEST_SOURCES})
target_include_directories(worldpm_emu_sanitizer_tests PRIVATE native/include native/src tests/native)
target_link_libraries(worldpm_emu_sanitizer_tests PRIVATE worldpm worldpm_emu worldpm_common_headers
  GTest::gtest GTest::gtest_main Threads::Threads)

# Left out, and why. Both: timings, large grids and the larger attention shapes (minutes under a sanitizer).
# Under TSan: the tests that plant a race on purpose to show the schedules catch it (TSan reports those races,
# as it should); test kernels whose threads all store the same value to one place (the errors tests' line
# numbers, cp.async's two blocks writing one output: races, if harmless ones); plain __shared__, which is a
# thread_local, so blocks that run one after the other on an OS thread share it unordered.
# Under ASan: the guard-bytes test, which writes past an allocation on purpose: ASan stops at that write.
string(CONCAT excluded "EmuRuntime.LargeGridFinishesQuickly:EmuRuntime.BarrierCostIsReported:*LeftPaddingGqa4*"
  ":*LengthOneInAFullTile*:*SeveralKeyTiles*:*LongerSequence*:*EveryHeadDim*:EmuAttention*.BitwiseIdentical*")
if(san STREQUAL "thread")
  string(APPEND excluded ":EmuRuntime.MissingBarrierGivesAWrongAnswerInSomeSchedule"
    ":EmuRuntime.NeighbourReadWithoutBarrierIsCaughtByReverseAndRandom"
    ":EmuBlockReduce.EmulatorCatchesEachMissingBarrier:EmuCpAsync.MissingWaitReadsPoisonInEverySchedule"
    ":EmuErrors.DivergentSyncthreadsIsReportedWithBothCallSites"
    ":EmuErrors.BarrierAfterSomeThreadsExitedIsReportedInStrictMode:EmuErrors.ShuffleByALaneOutsideItsMaskIsReported"
    ":EmuErrors.DeadlockIsReportedWithThreadsAndLines:EmuCpAsync.DataLandsOnlyWhenWaitGroupRetiresItsGroup"
    ":EmuRuntime.ConcurrentBlocksOnTwoOsThreadsHaveIsolatedSharedMemory")
else()
  string(APPEND excluded ":EmuErrors.GuardBytesNameTheOverrunAllocation")
endif()
gtest_discover_tests(worldpm_emu_sanitizer_tests TEST_PREFIX emu.${san_name}. DISCOVERY_TIMEOUT 120
  TEST_FILTER "-${excluded}" PROPERTIES TIMEOUT 600)

# The probes: exit status and output as the sanitizer leaves them (exitcode: a report fails the process).
add_executable(emu_sanitizer_probes tests/native/sanitizer/emu_sanitizer_probes.cpp)
target_link_libraries(emu_sanitizer_probes PRIVATE worldpm_emu worldpm_common_headers)
function(worldpm_emu_probe name pass_regex)
  add_test(NAME emu.${san_name}.probe.${name} COMMAND emu_sanitizer_probes ${name})
  if(pass_regex)
    set_tests_properties(emu.${san_name}.probe.${name} PROPERTIES PASS_REGULAR_EXPRESSION "${pass_regex}")
  else()
    set_tests_properties(emu.${san_name}.probe.${name} PROPERTIES FAIL_REGULAR_EXPRESSION "Sanitizer")
  endif()
endfunction()
if(san STREQUAL "thread")
  worldpm_emu_probe(shared_sum_race "ThreadSanitizer: data race.*planted_shared_sum_race.*emu_sanitizer_probes.cpp:")
  worldpm_emu_probe(cross_block_race "ThreadSanitizer: data race.*planted_cross_block_read.*emu_sanitizer_probes.cpp:")
  worldpm_emu_probe(shared_sum_clean "")
  worldpm_emu_probe(cross_block_clean "")
else()
  set(overflow "AddressSanitizer: (use-after-poison|heap-buffer-overflow).*READ of size 4.*planted_read")
  worldpm_emu_probe(read_past_end "${overflow}")
  worldpm_emu_probe(read_far_past_end "${overflow}")
  worldpm_emu_probe(read_last "")
endif()
