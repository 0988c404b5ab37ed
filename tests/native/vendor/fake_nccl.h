// A stand-in for NCCL, so the cuda communicator's collective calls (native/src/comm/nccl_calls.h) run in tests
// on machines without a GPU or libnccl: the functions NcclLibrary binds, over ranks that are threads of this
// process, on host memory (the stream is ignored: a collective has finished when its call returns).
//
// Modelled from NCCL's documentation: ncclCommInitRank blocks until all nranks ranks of a unique id joined;
// each collective blocks until every rank of the communicator called it, and then runs once for all:
// all-reduce and reduce-scatter (sum, avg) in double, rounded once to the type; broadcast from the root;
// all-gather in rank order; in-place calls allowed. Types by NCCL's codes: int32, float16, float32, bfloat16.
// Where real NCCL would hang or corrupt memory because ranks disagree (operation, count, type, reduction,
// root), every rank gets ncclInvalidUsage instead; a bad type, reduction, root or rank is ncclInvalidArgument.
#pragma once

#include "comm/nccl_library.h"

namespace fake_nccl {

// The documented result codes the fake returns.
constexpr int kInvalidArgument = 4;
constexpr int kInvalidUsage = 5;

const wpm::comm::NcclLibrary& library();

}  // namespace fake_nccl
