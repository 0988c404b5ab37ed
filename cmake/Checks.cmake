# Checks on the kernel sources and on nvcc's output. On the sources, always (with the tests): every kernel
# declared __launch_bounds__ repeats its bound in kernel_launch_bounds(), the emulator's only view of it.
# When there is nvcc: the kernel resource report (built by default; it fails the build when a kernel spills),
# the occupancy report derived from it (fails when a kernel cannot launch at all) and, with the tests, the SASS
# checks that the tensor-core kernels reach the hardware instructions and that no kernel uses a denied one.
# None needs a GPU.
if(WORLDPM_TESTS)
  add_test(NAME kernel_launch_bounds
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/check_launch_bounds.sh ${WORLDPM_KERNEL_SOURCES})
  # The check itself: of the planted kernels, exactly the three that do not repeat their bound are named.
  add_test(NAME kernel_launch_bounds.planted
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/check_launch_bounds.sh
            ${CMAKE_SOURCE_DIR}/tests/native/launch_bounds/planted.cu)
  set_tests_properties(kernel_launch_bounds.planted PROPERTIES
    PASS_REGULAR_EXPRESSION
      "planted.cu:17: lacks_the_call .*planted.cu:21: drops_min_blocks .*planted.cu:26: calls_it_late .*3 of 5 kernels")
endif()

if(NOT CMAKE_CUDA_COMPILER)
  return()
endif()

# The resource report (registers, shared memory, stack, spills per kernel and arch), rebuilt when a
# kernel changes; the build fails when a kernel spills. `cat <build>/kernel_resources.txt` prints it.
file(GLOB WORLDPM_KERNEL_HEADERS CONFIGURE_DEPENDS kernels/include/* common/include/*)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/kernel_resources.txt
  COMMAND ${CMAKE_COMMAND} -E env CUDACXX=${CMAKE_CUDA_COMPILER} CUDAHOSTCXX=${CMAKE_CUDA_HOST_COMPILER}
          ${CMAKE_SOURCE_DIR}/scripts/kernel_report.sh --quiet ${CMAKE_BINARY_DIR}/kernel_resources.txt
  DEPENDS ${WORLDPM_KERNEL_SOURCES} ${WORLDPM_KERNEL_HEADERS} ${CMAKE_SOURCE_DIR}/scripts/kernel_report.sh
  COMMENT "Kernel resource report (ptxas -v, sm_80 and sm_90; fails on spills)"
  VERBATIM)
# Blocks per SM, the limiting resource and the waves at the reference shapes on A100 and H100, next to the
# resource report: `cat <build>/kernel_occupancy.txt` prints it.
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/kernel_occupancy.txt
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/occupancy_report.sh ${CMAKE_BINARY_DIR}/kernel_resources.txt
          ${CMAKE_BINARY_DIR}/kernel_occupancy.txt > /dev/null
  DEPENDS ${CMAKE_BINARY_DIR}/kernel_resources.txt ${CMAKE_SOURCE_DIR}/scripts/occupancy_report.sh
  COMMENT "Kernel occupancy report (A100, H100; fails when a kernel cannot launch)"
  VERBATIM)
add_custom_target(kernel_report ALL DEPENDS ${CMAKE_BINARY_DIR}/kernel_resources.txt
                                            ${CMAKE_BINARY_DIR}/kernel_occupancy.txt)

# The tensor-core path must really reach the hardware instructions: a wrapper that fell back to
# scalar code would still compile and pass under the emulator.
if(WORLDPM_TESTS)
  foreach(kernel mma_probe attention)
    add_test(NAME kernel_sass.${kernel}
      COMMAND ${CMAKE_SOURCE_DIR}/scripts/check_sass.sh
              ${CMAKE_BINARY_DIR}/CMakeFiles/worldpm_kernels_cuda.dir/kernels/${kernel}.cu.o HMMA LDSM LDGSTS)
  endforeach()
  # Legal instructions that mark a performance bug, in every kernel object: byte loads and stores (16-bit
  # data moves as packed pairs or 16-byte packs, never a byte at a time) and local memory (spills, a register
  # array indexed at run time, or a math call's slow path such as sinf's large-argument reduction).
  foreach(source ${WORLDPM_KERNEL_SOURCES})
    get_filename_component(kernel ${source} NAME_WE)
    add_test(NAME kernel_sass_deny.${kernel}
      COMMAND ${CMAKE_SOURCE_DIR}/scripts/check_sass.sh
              ${CMAKE_BINARY_DIR}/CMakeFiles/worldpm_kernels_cuda.dir/kernels/${kernel}.cu.o
              --deny STG.E.U8 LDG.E.U8 LDL STL)
  endforeach()
  # Prints the occupancy report in the test log (CI); fails only when a kernel cannot launch at all.
  add_test(NAME kernel_occupancy
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/occupancy_report.sh ${CMAKE_BINARY_DIR}/kernel_resources.txt)
endif()
