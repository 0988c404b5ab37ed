# Checks on nvcc's output, when there is nvcc: the kernel resource report (built by default; it fails the build
# when a kernel spills), the occupancy report derived from it (fails when a kernel cannot launch at all) and,
# with the tests, the SASS checks that the tensor-core kernels reach the hardware instructions and that the
# attention kernels use none of the denied ones. None needs a GPU.
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
  # Legal instructions that mark a performance bug in the attention kernels: byte loads and stores (packed
  # halves go out 4 or 16 bytes at a time) and local memory (spills, or a register array indexed at run time).
  add_test(NAME kernel_sass_deny.attention
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/check_sass.sh
            ${CMAKE_BINARY_DIR}/CMakeFiles/worldpm_kernels_cuda.dir/kernels/attention.cu.o
            --deny STG.E.U8 LDG.E.U8 LDL STL)
  # Prints the occupancy report in the test log (CI); fails only when a kernel cannot launch at all.
  add_test(NAME kernel_occupancy
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/occupancy_report.sh ${CMAKE_BINARY_DIR}/kernel_resources.txt)
endif()
