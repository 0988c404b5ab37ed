// Fill: every element of a buffer set to one bit pattern (the device side of
// wpm_fill; zeroing gradients is its main use).
//
//   dst: [n] elements of elem_bytes = 2 (f16 / bf16) or 4 (f32 / i32) bytes.
//   bits: the element's bit pattern (the host converts the value to the dtype
//   with the same rounding as the CPU backend, so both backends store the same bits).
//
// Tiling: one 4-byte word per thread step of a grid-stride loop, blocks of 256
// threads, at most 1056 blocks. A 2-byte element pattern is doubled into a word;
// an odd 2-byte tail (n odd, or dst 2 bytes past a 4-byte boundary) is written
// by thread 0 of block 0 with 2-byte stores.
// Cost: 0 FLOPs, n * elem_bytes bytes written.
// ptxas (nvcc 11.8, sm_80 / sm_90): see the table in kernels/README.md.
//
// Emulator: no barrier, no shared memory: the same bits in every schedule.
#include "launch_util.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 256;

// words: the 4-byte-aligned body; head / tail: the 2-byte elements before and after it.
__global__ void __launch_bounds__(kThreads) fill_kernel(uint32_t* words, int64_t count, uint32_t pattern,
                                                        uint16_t* head, uint16_t* tail, uint16_t half_pattern) {
  kernel_launch_bounds(kThreads);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) words[i] = pattern;
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    if (head) *head = half_pattern;
    if (tail) *tail = half_pattern;
  }
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus fill_bits(kstream_t stream, void* dst, int64_t n, int elem_bytes, uint32_t bits) {
  if (kstatus s = check_size("fill_bits", "n", n)) return s;
  if (kstatus s = check_pointers("fill_bits", !dst)) return s;
  if (elem_bytes != 2 && elem_bytes != 4) return invalid("fill_bits", "elem_bytes = " + std::to_string(elem_bytes) + " (2 or 4)");
  if (n == 0) return KSTATUS_OK;
  const uintptr_t address = reinterpret_cast<uintptr_t>(dst);
  if (address % unsigned(elem_bytes) != 0) return invalid("fill_bits", "dst is not aligned to its element size");
  if (elem_bytes == 4) {
    return klaunch(fill_kernel, grid_for(n, kThreads), dim3(kThreads), 0, stream, static_cast<uint32_t*>(dst), n,
                   bits, static_cast<uint16_t*>(nullptr), static_cast<uint16_t*>(nullptr), uint16_t(0));
  }
  const uint16_t half_pattern = uint16_t(bits);
  uint16_t* first = static_cast<uint16_t*>(dst);
  int64_t rest = n;
  uint16_t* head = nullptr;
  if (address % 4 != 0) {  // one 2-byte element up to the word boundary
    head = first++;
    --rest;
  }
  uint16_t* tail = rest % 2 != 0 ? first + rest - 1 : nullptr;
  return klaunch(fill_kernel, grid_for(rest / 2 > 0 ? rest / 2 : 1, kThreads), dim3(kThreads), 0, stream,
                 reinterpret_cast<uint32_t*>(first), rest / 2, uint32_t(half_pattern) * 0x10001u, head, tail,
                 half_pattern);
}

}  // namespace WPM_KERNELS_NS
