// RoPE (rotary position embedding), in place, forward and backward.
//
//   x [B, T, H, D] (f32 / f16 / bf16 storage, fp32 math), D even; positions
//   i32 [B, T] or null (pos = t). The rotate-half layout of Qwen2 / Hugging
//   Face: element i of a head pairs with element i + D/2, and for i < D/2
//       angle_i = pos * theta^(-2i/D)
//       x_i       <- x_i cos - x_{i+D/2} sin
//       x_{i+D/2} <- x_{i+D/2} cos + x_i sin
//   The backward is the transpose: the same rotation with -sin, in place on dx.
//
// Angles are formed in float64 as turns of pi (angle / pi) and reduced to
// [-1, 1] there, then sincospif in fp32: ~1e-7 at every position, where an
// fp32 angle is off by up to pos * 6e-8 rad (2e-3 at pos 32k). sincospif, not
// cosf/sinf of a reduced angle: those keep a local-memory slow path for large
// arguments (include/sincospi.cuh).
//
// Tiling: one block of 128 threads per token (grid B*T). The threads first
// build the token's D/2 cos/sin pairs in dynamic shared memory (D * 4 bytes),
// one FP64 exp + multiply + rint per pair, shared by all H heads; after a
// barrier they rotate the H * D/2 pairs of the token, strided (coalesced).
// Cost per token: H*D*3 FLOPs + D/2 (exp, sincos); bytes 2 * H * D * sizeof(T)
// (+ 4 for a position). ptxas (nvcc 11.8): see the table in kernels/README.md.
//
// Emulator: the cos/sin table lives in poisoned dynamic shared memory, so a
// missing barrier would rotate by NaN; the tests compare every schedule bitwise.
#include "launch_util.cuh"
#include "sincospi.cuh"

namespace {

using namespace klaunch_util;
constexpr int kThreads = 128;
constexpr double kPi = 3.14159265358979323846;

template <class T>
__device__ __forceinline__ void rope_apply(T* __restrict__ x, const int32_t* __restrict__ positions, int64_t t,
                                           int h, int d, double log_theta, float sign) {
  const int half = d / 2;
  float* cosv = emu_dynamic_smem<float>();
  float* sinv = cosv + half;
  const int64_t token = blockIdx.x;
  const double pos = positions ? double(positions[token]) : double(token % t);
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    double turns = pos * exp(-2.0 * double(i) / double(d) * log_theta) / kPi;
    turns -= 2.0 * rint(0.5 * turns);
    float s, c;
    sincospi_f(float(turns), &s, &c);
    cosv[i] = c;
    sinv[i] = sign * s;
  }
  // The whole table is written before any thread rotates with it.
  __syncthreads();
  T* row = x + token * int64_t(h) * d;
  for (int k = threadIdx.x; k < h * half; k += blockDim.x) {
    const int head = k / half, i = k - head * half;
    T* lo = row + int64_t(head) * d + i;
    const float a = to_float(lo[0]), b = to_float(lo[half]);
    lo[0] = from_float<T>(a * cosv[i] - b * sinv[i]);
    lo[half] = from_float<T>(b * cosv[i] + a * sinv[i]);
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    rope_fwd_kernel(T* x, const int32_t* positions, int64_t t, int h, int d, double log_theta) {
  kernel_launch_bounds(kThreads);
  rope_apply(x, positions, t, h, d, log_theta, 1.0f);
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    rope_bwd_kernel(T* dx, const int32_t* positions, int64_t t, int h, int d, double log_theta) {
  kernel_launch_bounds(kThreads);
  rope_apply(dx, positions, t, h, d, log_theta, -1.0f);
}

template <class Kernel>
kstatus launch(const char* op, Kernel kernel_of, kstream_t stream, void* x, const int32_t* positions, int64_t b,
               int64_t t, int64_t h, int64_t d, float theta, kdtype dtype) {
  if (kstatus s = check_size(op, "b", b)) return s;
  if (kstatus s = check_size(op, "t", t)) return s;
  if (kstatus s = check_size(op, "h", h)) return s;
  if (kstatus s = check_size(op, "d", d)) return s;
  if (d % 2 != 0) return invalid(op, "d = " + std::to_string(d) + " must be even");
  if (!(theta > 0.0f)) return invalid(op, "theta = " + std::to_string(theta) + " must be positive");
  if (d > 8192) return invalid(op, "d = " + std::to_string(d) + " exceeds 8192 (the cos/sin table is d * 4 bytes of shared memory)");
  if (h * d > int64_t(1) << 30) return invalid(op, "h * d = " + std::to_string(h * d) + " is too large");
  const int64_t tokens = b * t;
  if (tokens > int64_t(0x7fffffff)) return invalid(op, "b * t = " + std::to_string(tokens) + " exceeds the grid");
  if (tokens == 0 || h * d == 0) return KSTATUS_OK;
  if (kstatus s = check_pointers(op, !x)) return s;
  const double log_theta = std::log(double(theta));
  return dispatch_dtype(op, dtype, [&](auto tag) {
    using T = decltype(tag);
    // x read and written in place, the positions read
    klaunch_min_bytes(2 * uint64_t(tokens * h * d) * sizeof(T) + (positions ? 4 * uint64_t(tokens) : 0));
    return klaunch(kernel_of(tag), dim3(unsigned(tokens)), dim3(kThreads), size_t(d) * sizeof(float), stream,
                   static_cast<T*>(x), positions, t, int(h), int(d), log_theta);
  });
}

}  // namespace

namespace WPM_KERNELS_NS {

kstatus rope_fwd(kstream_t stream, void* x, const int32_t* positions, int64_t b, int64_t t, int64_t h, int64_t d,
                 float theta, kdtype dtype) {
  return launch("rope_fwd", [](auto tag) { return rope_fwd_kernel<decltype(tag)>; }, stream, x, positions, b, t, h, d,
                theta, dtype);
}

kstatus rope_bwd(kstream_t stream, void* dx, const int32_t* positions, int64_t b, int64_t t, int64_t h, int64_t d,
                 float theta, kdtype dtype) {
  return launch("rope_bwd", [](auto tag) { return rope_bwd_kernel<decltype(tag)>; }, stream, dx, positions, b, t, h, d,
                theta, dtype);
}

}  // namespace WPM_KERNELS_NS
