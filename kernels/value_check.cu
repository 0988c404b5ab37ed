// Checks of i32 values that live in device memory into the context's device error
// word, so the host never reads them back to check them.
//
// check_values: a range check (token ids, row indices, sequence lengths).
//   values i32 [N]; every value must be in low..high (none is when low > high).
//   word: if word->code is 0 and some value is out of range, the word becomes
//         {code, i, values[i], 0, 0} for the FIRST such i (lowest index). A set
//         word is left alone: the first failed check since the host last read
//         the word wins.
//   safe (optional) i32 [N]: values with every out-of-range one replaced by
//         high, for a consumer that must stay in bounds (attention) whatever
//         the caller stored; the call is failed later through the word.
//
// check_offsets: a packed attention batch's cu_seqlens i32 [B + 1], under the
//   rules of packed_offsets.h tested at each index in that order; the
//   word gets the first failing index with its rule and the numbers the message
//   names. safe i32 [B + 1] gets the offsets, or all zeros when any rule fails:
//   every sequence empty, so the attention kernels reading it touch no row
//   (any other repair could hand them a sequence longer than max_seqlen, whose
//   rows past the grid's reach no kernel writes but a later one reads).
//
// Tiling: ONE block of 256 threads, each striding over N and keeping its first
// bad index, then a min over the block in shared memory (a tree with a barrier
// per level). One writer (thread 0) and no atomics: the same word in every
// schedule. N is a batch's tokens at most, so one block moves it in a few
// microseconds. Cost: 4 N bytes read (+ 4 N written with safe), 40 written.
#include "launch_util.cuh"
#include "packed_offsets.h"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;

// The smallest of the block's `mine`, on every thread. `first` is shared memory of kThreads elements; every
// thread of the block calls.
__device__ __forceinline__ int64_t block_min(int64_t mine, int64_t* first) {
  first[threadIdx.x] = mine;
  // Every thread's candidate is stored before the tree reads it.
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half && first[threadIdx.x + half] < first[threadIdx.x])
      first[threadIdx.x] = first[threadIdx.x + half];
    // This level's minima are stored before the next level (or the caller) reads them.
    __syncthreads();
  }
  return first[0];
}

__global__ void __launch_bounds__(kThreads)
    value_check_kernel(const int32_t* __restrict__ values, int64_t n, int32_t low, int32_t high, int64_t code,
                       kerror_word* __restrict__ word, int32_t* __restrict__ safe) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(int64_t, first_bad, [kThreads]);
  int64_t mine = n;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int32_t v = values[i];
    const bool ok = v >= low && v <= high;
    if (!ok && i < mine) mine = i;
    if (safe != nullptr) safe[i] = ok ? v : high;
  }
  const int64_t first = block_min(mine, first_bad);
  if (threadIdx.x == 0 && first < n && word->code == 0) {
    word->code = code;
    word->index = first;
    word->value = values[first];
    word->rule = 0;
    word->other = 0;
  }
}

// A failure is the key i * kRules + rule, so that the smallest key is the first index and there its first rule.
constexpr int64_t kRules = 8;

__global__ void __launch_bounds__(kThreads)
    offsets_check_kernel(const int32_t* __restrict__ cu, int64_t b, int32_t t, int32_t max_seqlen, int64_t code,
                         kerror_word* __restrict__ word, int32_t* __restrict__ safe) {
  kernel_launch_bounds(kThreads);
  EMU_SHARED(int64_t, first_bad, [kThreads]);
  const int64_t none = (b + 1) * kRules;
  int64_t mine = none;
  for (int64_t i = threadIdx.x; i <= b && mine == none; i += blockDim.x) {
    const koffsets_rule rule = broken_offset_rule(cu, i, b, t, max_seqlen);
    if (rule != koffsets_ok) mine = i * kRules + rule;
  }
  const int64_t first = block_min(mine, first_bad);
  for (int64_t i = threadIdx.x; i <= b; i += blockDim.x) safe[i] = first == none ? cu[i] : 0;
  if (threadIdx.x == 0 && first != none && word->code == 0) {
    const koffsets_failure f = offsets_failure(cu, first / kRules, koffsets_rule(first % kRules), t, max_seqlen);
    word->code = code;
    word->index = f.index;
    word->value = f.value;
    word->rule = f.rule;
    word->other = f.other;
  }
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus check_values(kstream_t stream, const int32_t* values, int64_t n, int32_t low, int32_t high, int64_t code,
                     kerror_word* word, int32_t* safe) {
  const char* op = "check_values";
  if (kstatus s = check_size(op, "n", n)) return s;
  if (code == 0) return invalid(op, "code 0 means no error");
  if (n == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers(op, !values || !word)) return s;
  return klaunch(value_check_kernel, dim3(1), dim3(kThreads), 0, stream, values, n, low, high, code, word, safe);
}

kstatus check_offsets(kstream_t stream, const int32_t* cu_seqlens, int64_t b, int32_t t, int32_t max_seqlen,
                      int64_t code, kerror_word* word, int32_t* safe) {
  const char* op = "check_offsets";
  if (kstatus s = check_size(op, "b", b)) return s;
  if (b < 1 || b >= INT32_MAX) return invalid(op, "b must be in 1..2^31 - 2");
  if (code == 0) return invalid(op, "code 0 means no error");
  if (kstatus s = check_pointers(op, !cu_seqlens || !word || !safe)) return s;
  return klaunch(offsets_check_kernel, dim3(1), dim3(kThreads), 0, stream, cu_seqlens, b, t, max_seqlen, code, word,
                 safe);
}

}  // namespace WPM_KERNELS_NS
