// NCCL, opened at run time: libnccl.so.2 with dlopen, and only the functions
// and types the cuda communicator uses, declared here with NCCL's documented
// values, so nothing of NCCL is needed to build (Debian does not package it).
#pragma once

#include <string>

namespace wpm::comm {

// ncclResult_t, ncclDataType_t and ncclRedOp_t values (nccl.h, NCCL >= 2.10).
enum NcclResult : int { kNcclSuccess = 0, kNcclInProgress = 7 };
enum NcclDataType : int { kNcclInt32 = 2, kNcclFloat16 = 6, kNcclFloat32 = 7, kNcclBfloat16 = 9 };
enum NcclRedOp : int { kNcclSum = 0, kNcclAvg = 4 };

struct NcclUniqueId {
  char internal[128];  // NCCL_UNIQUE_ID_BYTES
};
using NcclComm = struct ncclComm*;
using CudaStream = void*;

struct NcclLibrary {
  int (*get_version)(int*);
  int (*get_unique_id)(NcclUniqueId*);
  int (*comm_init_rank)(NcclComm*, int, NcclUniqueId, int);
  int (*comm_destroy)(NcclComm);
  int (*comm_abort)(NcclComm);
  int (*comm_get_async_error)(NcclComm, int*);
  const char* (*get_error_string)(int);
  int (*all_reduce)(const void*, void*, size_t, int, int, NcclComm, CudaStream);
  int (*broadcast)(const void*, void*, size_t, int, int, NcclComm, CudaStream);
  int (*all_gather)(const void*, void*, size_t, int, NcclComm, CudaStream);
  int (*reduce_scatter)(const void*, void*, size_t, int, int, NcclComm, CudaStream);
  int version = 0;  // e.g. 21903 for 2.19.3
};

// The loaded library (opened once per process), or null with the reason in *why
// ("libnccl.so.2: cannot open shared object file ...", or a missing function).
const NcclLibrary* nccl_library(std::string* why);
// "NCCL 2.19.3" or "unavailable: <why>".
std::string nccl_description();

}  // namespace wpm::comm
