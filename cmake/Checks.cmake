# Checks on nvcc's output, when there is nvcc: the kernel resource report (built by default; it fails the build
# when a kernel spills) and, with the tests, the SASS checks that the tensor-core kernels reach the hardware
# instructions. Neither needs a GPU.
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
add_custom_target(kernel_report ALL DEPENDS ${CMAKE_BINARY_DIR}/kernel_resources.txt)

# The tensor-core path must really reach the hardware instructions: a wrapper that fell back to
# scalar code would still compile and pass under the emulator.
if(WORLDPM_TESTS)
  foreach(kernel mma_probe attention)
    add_test(NAME kernel_sass.${kernel}
      COMMAND ${CMAKE_SOURCE_DIR}/scripts/check_sass.sh
              ${CMAKE_BINARY_DIR}/CMakeFiles/worldpm_kernels_cuda.dir/kernels/${kernel}.cu.o HMMA LDSM LDGSTS)
  endforeach()
endif()
