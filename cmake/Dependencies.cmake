# The libraries libworldpm.so uses on the CPU: OpenBLAS (required), OpenMPI (collectives) and oneDNN (bf16
# GEMMs). None is linked: each is opened at run time, so the build needs at most its headers, and a machine
# without MPI or oneDNN still loads the library and says what is missing. Sets WORLDPM_MPI_STATUS,
# WORLDPM_ONEDNN_STATUS and WORLDPM_MPI_HEADER_IS_OPENMPI (the collectives' tests need it).

# OpenBLAS is opened at run time (native/src/cpu/blas.h says why); the build only
# checks it is installed, so a missing package is a configure error, not a surprise later.
find_package(PkgConfig REQUIRED)
pkg_check_modules(OPENBLAS REQUIRED openblas)

# ---------------------------------------------------------------- MPI (collectives)
# libworldpm.so never links MPI: native/src/comm/mpi_library.h opens OpenMPI's
# libmpi.so.40 at run time, so the library loads where MPI is missing and its
# collectives (and `worldpm info`) say so. The build needs only OpenMPI's mpi.h,
# for the types and constants; its handles (MPI_COMM_WORLD, MPI_FLOAT, ...) are
# looked up at run time too. NCCL is never needed to build
# (native/src/comm/nccl_library.h opens it at run time).
find_package(MPI COMPONENTS C QUIET)
target_sources(worldpm PRIVATE native/src/comm/launch_env.cpp native/src/comm/nccl_library.cpp
  native/src/comm/nccl_calls.cpp)
set(WORLDPM_MPI_HEADER_IS_OPENMPI FALSE)
if(MPI_C_FOUND)
  find_file(WORLDPM_MPI_HEADER mpi.h PATHS ${MPI_C_INCLUDE_DIRS} NO_DEFAULT_PATH)
  if(WORLDPM_MPI_HEADER)
    file(STRINGS ${WORLDPM_MPI_HEADER} WORLDPM_OPEN_MPI_LINE REGEX "^#define OPEN_MPI 1")
    if(WORLDPM_OPEN_MPI_LINE)
      set(WORLDPM_MPI_HEADER_IS_OPENMPI TRUE)
    endif()
  endif()
endif()
if(WORLDPM_MPI_HEADER_IS_OPENMPI)
  target_sources(worldpm PRIVATE native/src/comm/mpi_library.cpp
    native/src/comm/mpi_thread.cpp native/src/comm/arrival_board.cpp native/src/comm/peer_watch.cpp native/src/comm/host_staging.cpp native/src/comm/queued_exchange.cpp
    native/src/comm/mpi_communicator.cpp native/src/comm/nccl_communicator.cpp)
  target_include_directories(worldpm PRIVATE ${MPI_C_INCLUDE_DIRS})
  # OMPI_SKIP_MPICXX: the C API only (mpi.h would pull in the deprecated C++ bindings).
  target_compile_definitions(worldpm PRIVATE WPM_HAVE_MPI=1 OMPI_SKIP_MPICXX=1)
  set(WORLDPM_MPI_STATUS "yes (OpenMPI headers, MPI ${MPI_C_VERSION}; libmpi.so.40 opened at run time)")
elseif(MPI_C_FOUND)
  set(WORLDPM_MPI_STATUS "no: the MPI found is not OpenMPI (the run-time loader knows OpenMPI's handles only)")
else()
  set(WORLDPM_MPI_STATUS "no: OpenMPI headers not found (install libopenmpi-dev: scripts/setup.sh)")
endif()

# ---------------------------------------------------------------- oneDNN (bf16 GEMMs)
# oneDNN (Debian libdnnl-dev) runs bf16 GEMMs where bf16 dot products are fast (AMX, or AVX512-BF16 at full rate)
# (native/src/cpu/onednn_matmul.h). Optional: without it bf16 GEMMs convert around OpenBLAS sgemm.
# Only the header is used (native/src/cpu/onednn_library.h opens libdnnl.so.2 at run time): oneDNN's CMake
# package is not used because its config demands OpenCL, which broke the configure on fresh machines.
option(WORLDPM_ONEDNN "Use oneDNN for bf16 GEMMs on the CPU when it is installed" ON)
set(WORLDPM_ONEDNN_STATUS "no: disabled with WORLDPM_ONEDNN=OFF")
if(WORLDPM_ONEDNN)
  find_path(WORLDPM_ONEDNN_INCLUDE_DIR oneapi/dnnl/dnnl.h)
  if(WORLDPM_ONEDNN_INCLUDE_DIR AND EXISTS ${WORLDPM_ONEDNN_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h)
    file(STRINGS ${WORLDPM_ONEDNN_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h WORLDPM_ONEDNN_MAJOR_LINE
         REGEX "^#define DNNL_VERSION_MAJOR ")
    string(REGEX REPLACE "^#define DNNL_VERSION_MAJOR +([0-9]+).*" "\\1" WORLDPM_ONEDNN_MAJOR "${WORLDPM_ONEDNN_MAJOR_LINE}")
  endif()
  if(WORLDPM_ONEDNN_MAJOR STREQUAL "2")
    target_include_directories(worldpm PRIVATE ${WORLDPM_ONEDNN_INCLUDE_DIR})
    target_compile_definitions(worldpm PRIVATE WPM_HAVE_ONEDNN=1)
    set(WORLDPM_ONEDNN_STATUS "yes (oneDNN 2 C API headers; libdnnl.so.2 opened at run time)")
  elseif(WORLDPM_ONEDNN_MAJOR)
    set(WORLDPM_ONEDNN_STATUS "no: oneDNN ${WORLDPM_ONEDNN_MAJOR} headers found, the matmul path uses the oneDNN 2 C API")
  else()
    set(WORLDPM_ONEDNN_STATUS "no: oneDNN headers not found (install libdnnl-dev); bf16 GEMMs convert around OpenBLAS")
  endif()
endif()
