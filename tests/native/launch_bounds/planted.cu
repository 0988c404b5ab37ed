// Planted input of scripts/check_launch_bounds.sh (CTest kernel_launch_bounds.planted): two kernels that
// repeat their bound correctly and three that do not; the check must name exactly those three. Never compiled.

__global__ void __launch_bounds__(64) repeats_its_bound(float* out) {
  kernel_launch_bounds(64);
  out[threadIdx.x] = 0.0f;
}

template <class T>
__global__ void __launch_bounds__(kThreads, 2)
    repeats_both_arguments(T* out,
                           int n) {
  kernel_launch_bounds(kThreads, 2);
  out[threadIdx.x] = T(n);
}

__global__ void __launch_bounds__(64) lacks_the_call(float* out) {
  out[threadIdx.x] = 0.0f;
}

__global__ void __launch_bounds__(128, 2) drops_min_blocks(float* out) {
  kernel_launch_bounds(128);
  out[threadIdx.x] = 0.0f;
}

__global__ void __launch_bounds__(256) calls_it_late(float* out) {
  out[threadIdx.x] = 0.0f;
  kernel_launch_bounds(256);
}
