# CTest gpu_bench.no_device_or_quick: runs `worldpm_gpu_bench --quick` and passes when
#   - no GPU is visible: the output is exactly the one no-device line on stdout, nothing on
#     stderr, exit status 0 (CI has no GPU: this is what it checks there);
#   - a GPU is visible (/dev/nvidia0): the bench ran every measurement (exit status 0).
# It fails on a crash (a signal: the status is then not 0), on anything else printed without
# a GPU, and on a no-device line where /dev/nvidia0 exists (a driver problem worth seeing).
#   cmake -DBENCH=<path to worldpm_gpu_bench> -P no_device_or_quick.cmake
if(NOT BENCH)
  message(FATAL_ERROR "no_device_or_quick.cmake: pass -DBENCH=<path to worldpm_gpu_bench>")
endif()
execute_process(COMMAND ${BENCH} --quick RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(no_device_line "^worldpm_gpu_bench: no CUDA device \\([^\n]+\\)\n$")
if(EXISTS /dev/nvidia0)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "worldpm_gpu_bench --quick failed on a GPU machine (exit ${rc})\n${out}\n${err}")
  endif()
  if(out MATCHES "${no_device_line}")
    message(FATAL_ERROR "/dev/nvidia0 exists but worldpm_gpu_bench saw no device: ${out}")
  endif()
  message(STATUS "GPU run:\n${out}")
else()
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "worldpm_gpu_bench --quick without a GPU exited with '${rc}' (expected 0)\nstdout: ${out}\nstderr: ${err}")
  endif()
  if(NOT out MATCHES "${no_device_line}" OR NOT err STREQUAL "")
    message(FATAL_ERROR "worldpm_gpu_bench --quick without a GPU must print exactly the no-device line\nstdout: ${out}\nstderr: ${err}")
  endif()
  message(STATUS "no GPU: ${out}")
endif()
