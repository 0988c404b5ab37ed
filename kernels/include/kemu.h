// kemu.h: the ONE header a kernel includes. It gives every GPU construct a
// kernel may use one name in both builds:
//   - under nvcc (__CUDACC__): thin aliases / __forceinline__ wrappers over CUDA;
//   - under a host compiler: the emulator (its interface emu.h in common/include,
//     its runtime in native/emu), where every CUDA thread is a fiber,
//     __syncthreads a block barrier and each warp collective a per-warp
//     rendezvous (docs/emulator.md, "Warp collectives").
//
// The dialect (C++17; nvcc 11.8 has no C++20):
//   __global__ __device__ __host__ __forceinline__ __launch_bounds__ __restrict__ __align__
//   threadIdx blockIdx blockDim gridDim warpSize (lane = threadIdx.x & 31, no %laneid asm)
//   __syncthreads()  __syncwarp(mask)
//   __shfl_sync / __shfl_up_sync / __shfl_down_sync / __shfl_xor_sync (types of <= 8 bytes), __ballot_sync
//   EMU_SHARED(T, name, dims)    block shared memory, poisoned 0xFF per block in the emulator
//   emu_dynamic_smem<T>()        dynamic shared memory (exactly dyn_smem bytes, poisoned); never
//                                write `extern __shared__` directly
//   __shared__                   allowed for small scalars/arrays; emulated as static thread_local:
//                                NOT poisoned (zero on a thread's first block, stale afterwards)
//   half_t / bf16_t              bit containers; f2h h2f f2bf bf2f; to_float(), from_float<T>()
//   ld128 / st128 / load16<T> / store16<T>
//                                16-byte loads and stores (memcpy in the emulator, no aliasing UB);
//                                the emulator reports an address that is not 16-byte aligned
//   st32 / st64                  4- and 8-byte stores (two packed halves, a float2): one STG of that
//                                width, where a memcpy through a 2-byte pointer compiles to byte stores;
//                                the emulator reports an address not aligned to the width
//   kernel_launch_bounds(max_threads[, min_blocks])
//                                the first statement of a kernel declared __launch_bounds__(...),
//                                repeating its arguments: the emulator cannot see the attribute
//                                and reports a block larger than max_threads (nvcc: nothing); it
//                                also names the kernel in the emulator's work counters
//   kcount_flops(n)              the calling thread did n floating-point operations (outside mma):
//                                the emulator's work counters add them up (nvcc: nothing)
//   klaunch_min_bytes(bytes)     host side, just before a klaunch: the bytes the launched kernel
//                                must move at least (its inputs read once, its outputs written
//                                once), for the emulator's work counters (nvcc: nothing)
//   klaunch_min_bytes_at_run(fn) the same, for a minimum that depends on device data: the emulator
//                                calls fn() on the host when the launch runs, after the launches
//                                before it, and only while it counts (nvcc: nothing, fn never runs)
//   math: expf tanhf erff logf sqrtf fmaxf fminf fabsf ... from <cmath> (std:: on the CPU); in the
//         emulator's hardware-numerics build exp2f, expf and erfcf are gpu_math_models.h's models
//   klaunch(kernel, grid, block, smem, stream, args...) the only way to launch; never <<<>>>.
//
// Tensor cores and async copies live in their own headers (both builds, emulated as above):
//   mma.cuh       mma_m16n8k16_f16f32 / mma_m16n8k16_bf16f32 (warp collective, PTX fragment layouts)
//   ldmatrix.cuh  ldmatrix_x1/x2/x4[_trans] (warp collective; 16-byte aligned rows in shared memory)
//   cp_async.cuh  cp_async_16, cp_async_16_zfill, cp_async_commit, cp_async_wait<N> (deferred delivery)
//
// NOT YET EMULATED (do not use them yet):
//   atomics (atomicAdd/Max/CAS), __threadfence,
//   __syncthreads_count/and/or, __any_sync/__all_sync/__match_*_sync,
//   __expf/__fdividef and other approximate intrinsics, raw asm(), cooperative
//   groups, grid sync, and sm_90 TMA / wgmma / mbarrier / clusters (never).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels.h"

// ====================================================================== nvcc
#if defined(__CUDACC__)

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>
#include <utility>

#define EMU_SHARED(T, name, dims) __shared__ __align__(16) T name dims

template <class T>
__device__ __forceinline__ T* emu_dynamic_smem() {
  extern __shared__ __align__(16) unsigned char emu_dynamic_smem_bytes[];
  return reinterpret_cast<T*>(emu_dynamic_smem_bytes);
}

__device__ __forceinline__ float h2f(uint16_t h) { return __half2float(__ushort_as_half(h)); }
__device__ __forceinline__ uint16_t f2h(float f) { return __half_as_ushort(__float2half_rn(f)); }
__device__ __forceinline__ float bf2f(uint16_t h) { return __bfloat162float(__ushort_as_bfloat16(h)); }
__device__ __forceinline__ uint16_t f2bf(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }

__device__ __forceinline__ uint4 ld128(const void* p) { return *reinterpret_cast<const uint4*>(p); }
__device__ __forceinline__ void st128(void* p, uint4 v) { *reinterpret_cast<uint4*>(p) = v; }
__device__ __forceinline__ void st32(void* p, uint32_t v) { *reinterpret_cast<uint32_t*>(p) = v; }
__device__ __forceinline__ void st64(void* p, float2 v) { *reinterpret_cast<float2*>(p) = v; }

// The attribute itself bounds the kernel under nvcc.
__device__ __forceinline__ void kernel_launch_bounds(unsigned /*max_threads*/, unsigned /*min_blocks*/ = 0) {}
// The work counters are the emulator's.
__device__ __forceinline__ void kcount_flops(uint64_t /*n*/) {}
inline void klaunch_min_bytes(uint64_t /*bytes*/) {}
template <class Fn>
inline void klaunch_min_bytes_at_run(Fn&& /*bytes*/) {}

// The call site of a checked access, passed on only in the emulator (see load16 below).
#define KEMU_SITE_PARAMS
#define KEMU_SITE_ARGS

// The launch helper: the one place <<<>>> is written. Static in both builds: its instantiations have the same
// signature under nvcc and in the emulator, and one library holds both, so with external linkage the linker would
// keep one of them for both (the CUDA one running an emulated kernel as a plain host call, or the reverse).
// Checks the block size and shared memory against sm_80/sm_90 limits and reports the launch error.
template <class... P, class... A>
static inline kstatus klaunch(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, kstream_t stream, A&&... args) {
  const unsigned threads = block.x * block.y * block.z;
  if (threads == 0 || threads > 1024) return kfail(KSTATUS_LAUNCH_FAILED, "klaunch: block of " + std::to_string(threads) + " threads (1..1024)");
  if (smem > (48u << 10)) {
    cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
    if (e != cudaSuccess) return kfail(KSTATUS_LAUNCH_FAILED, std::string("klaunch: ") + cudaGetErrorString(e));
  }
  kernel<<<grid, block, smem, stream>>>(std::forward<A>(args)...);
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return kfail(KSTATUS_LAUNCH_FAILED, std::string("klaunch: ") + cudaGetErrorString(e));
  ++klaunch_count();
  return KSTATUS_OK;
}

// ====================================================================== emulator
#else

// Both from common/include, which the build puts on the include path of kernels/ and native/ alike.
#include "emu.h"
#include "half.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// An attribute in the declarator leaves nothing the emulator can read at run time;
// kernel_launch_bounds() at the top of the body carries the bound instead.
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __shared__ static thread_local

#define threadIdx (*::emu::detail::tl_thread_idx)
#define blockIdx (*::emu::detail::tl_block_idx)
#define blockDim (*::emu::detail::tl_block_dim)
#define gridDim (*::emu::detail::tl_grid_dim)
constexpr int warpSize = 32;

struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };

// One poisoned buffer per declaration site per block; the static key only gives the site an address.
#define EMU_SHARED(T, name, dims)                                \
  static const char emu_shared_site_##name = 0;                  \
  auto& name = *static_cast<T(*) dims>(                          \
      ::emu::detail::shared_slot(&emu_shared_site_##name, sizeof(T dims), __FILE__, __LINE__))

template <class T>
inline T* emu_dynamic_smem() { return static_cast<T*>(::emu::detail::dynamic_smem()); }

inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::emu::detail::syncthreads(file, line);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::emu::detail::warp_collective(::emu::detail::WarpOp::syncwarp, mask, 0, 0, 32, file, line);
}

namespace emu::detail {
template <class T>
inline T shuffle(WarpOp op, unsigned mask, T var, int arg, int width, const char* file, int line) {
  static_assert(sizeof(T) <= 8, "warp shuffles move at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  bits = warp_collective(op, mask, bits, arg, width, file, line);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}
}  // namespace emu::detail

template <class T>
inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = 32, const char* file = __builtin_FILE(),
                     int line = __builtin_LINE()) {
  return ::emu::detail::shuffle(::emu::detail::WarpOp::shfl, mask, var, src_lane, width, file, line);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                        int line = __builtin_LINE()) {
  return ::emu::detail::shuffle(::emu::detail::WarpOp::shfl_up, mask, var, int(delta), width, file, line);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                          int line = __builtin_LINE()) {
  return ::emu::detail::shuffle(::emu::detail::WarpOp::shfl_down, mask, var, int(delta), width, file, line);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32, const char* file = __builtin_FILE(),
                         int line = __builtin_LINE()) {
  return ::emu::detail::shuffle(::emu::detail::WarpOp::shfl_xor, mask, var, lane_mask, width, file, line);
}
inline unsigned __ballot_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  return unsigned(::emu::detail::warp_collective(::emu::detail::WarpOp::ballot, mask, predicate != 0, 0, 32, file, line));
}

// The RNE conversions of half.h: one implementation for the CPU backend and the emulator.
inline float h2f(uint16_t h) { return wpm::f16_to_float(h); }
inline uint16_t f2h(float f) { return wpm::float_to_f16(f); }
inline float bf2f(uint16_t h) { return wpm::bf16_to_float(h); }
inline uint16_t f2bf(float f) { return wpm::float_to_bf16(f); }

// Vector accesses fault on the GPU when misaligned; a memcpy would not, so check first.
#define KEMU_SITE_PARAMS , const char* file = __builtin_FILE(), int line = __builtin_LINE()
#define KEMU_SITE_ARGS , file, line

inline uint4 ld128(const void* p KEMU_SITE_PARAMS) {
  if (reinterpret_cast<uintptr_t>(p) % 16 != 0) ::emu::detail::misaligned_access("ld128", 16, p, file, line);
  uint4 v;
  std::memcpy(&v, p, 16);
  return v;
}
inline void st128(void* p, uint4 v KEMU_SITE_PARAMS) {
  if (reinterpret_cast<uintptr_t>(p) % 16 != 0) ::emu::detail::misaligned_access("st128", 16, p, file, line);
  std::memcpy(p, &v, 16);
}

inline void st32(void* p, uint32_t v KEMU_SITE_PARAMS) {
  if (reinterpret_cast<uintptr_t>(p) % 4 != 0) ::emu::detail::misaligned_access("st32", 4, p, file, line);
  std::memcpy(p, &v, 4);
}
inline void st64(void* p, float2 v KEMU_SITE_PARAMS) {
  if (reinterpret_cast<uintptr_t>(p) % 8 != 0) ::emu::detail::misaligned_access("st64", 8, p, file, line);
  std::memcpy(p, &v, 8);
}

inline void kernel_launch_bounds(unsigned max_threads, unsigned min_blocks = 0, const char* file = __builtin_FILE(),
                                 int line = __builtin_LINE(), const char* function = __builtin_FUNCTION()) {
  ::emu::detail::check_launch_bounds(max_threads, min_blocks, file, line);
  ::emu::detail::name_kernel(function);
}
inline void kcount_flops(uint64_t n) { ::emu::detail::count_flops(n); }
inline void klaunch_min_bytes(uint64_t bytes) { ::emu::detail::declare_min_bytes(bytes); }
template <class Fn>
inline void klaunch_min_bytes_at_run(Fn&& bytes) { ::emu::detail::declare_min_bytes_at_run(std::forward<Fn>(bytes)); }

// The hardware-numerics build of the kernels (WORLDPM_EMU_HARDWARE_NUMERICS, set by CMake for the
// kernel sources only): the math calls nvcc builds on the GPU's approximate units return a result as far
// from the correctly rounded one as their documented bound allows. Macros, because the calls are the
// C library's own unqualified names; every standard header a kernel needs is included above.
#if defined(WORLDPM_EMU_HARDWARE_NUMERICS)
#include "gpu_math_models.h"
#define exp2f(x) ::gpu_math::exp2f_model(x)
#define expf(x) ::gpu_math::expf_model(x)
#define erfcf(x) ::gpu_math::erfcf_model(x)
#endif

template <class... P, class... A>
static inline kstatus klaunch(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, kstream_t stream, A&&... args) {
  try {
    ::emu::launch_on(stream, kernel, grid, block, smem, std::forward<A>(args)...);
  } catch (const ::emu::LaunchError& e) {
    return kfail(KSTATUS_LAUNCH_FAILED, e.what());
  }
  ++klaunch_count();
  return KSTATUS_OK;
}

#endif

// ====================================================================== both builds

// fp16 / bf16 storage as bit containers: arithmetic is always done in float.
struct half_t { uint16_t bits; };
struct bf16_t { uint16_t bits; };

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(half_t v) { return h2f(v.bits); }
__device__ __forceinline__ float to_float(bf16_t v) { return bf2f(v.bits); }

template <class T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ half_t from_float<half_t>(float v) { return half_t{f2h(v)}; }
template <> __device__ __forceinline__ bf16_t from_float<bf16_t>(float v) { return bf16_t{f2bf(v)}; }

// 16 bytes of T as an array (8 halves or 4 floats), moved with one 128-bit access.
template <class T>
struct alignas(16) Pack16 {
  static constexpr int kCount = 16 / int(sizeof(T));
  T v[kCount];
};
// In the emulator both take the caller's file:line (KEMU_SITE_*) so that ld128/st128 report
// the kernel's line, not this one.
template <class T>
__device__ __forceinline__ Pack16<T> load16(const T* p KEMU_SITE_PARAMS) {
  const uint4 raw = ld128(p KEMU_SITE_ARGS);
  Pack16<T> out;
  memcpy(&out, &raw, 16);
  return out;
}
template <class T>
__device__ __forceinline__ void store16(T* p, const Pack16<T>& v KEMU_SITE_PARAMS) {
  uint4 raw;
  memcpy(&raw, &v, 16);
  st128(p, raw KEMU_SITE_ARGS);
}
