// Planted bugs that only the sanitizer builds of the emulator can see
// (docs/emulator.md, "Sanitizer builds"): each runs in its own process,
// `emu_sanitizer_probes NAME`, and CTest checks what the sanitizer printed.
// The emulator alone computes a plausible answer for every one of them: the
// race probes give the in-order result, the overflow probes read guard bytes
// as a finite float. The clean probes are the same kernels made correct and
// must produce no report, so a sanitizer that reports everything fails too.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kemu.h"

namespace {

// 256 threads add into one shared word without atomics or a barrier.
__global__ void planted_shared_sum_race(float* out) {
  EMU_SHARED(float, sum, [1]);
  if (threadIdx.x == 0) sum[0] = 0.0f;
  __syncthreads();
  sum[0] += 1.0f;  // the race: a read-modify-write by every thread, unordered
  __syncthreads();
  if (threadIdx.x == 0) out[0] = sum[0];
}

// The same sum made correct: each thread writes its own slot, thread 0 adds them after the barrier.
__global__ void clean_shared_sum(float* out) {
  EMU_SHARED(float, parts, [256]);
  parts[threadIdx.x] = 1.0f;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.0f;
    for (int i = 0; i < 256; ++i) s += parts[i];
    out[0] = s;
  }
}

// Block 1 reads what block 0 writes in the same launch: no ordering exists between blocks.
__global__ void planted_cross_block_read(float* data, float* out) {
  if (blockIdx.x == 0) data[threadIdx.x] = float(threadIdx.x);
  if (blockIdx.x == 1) out[threadIdx.x] = data[threadIdx.x];  // the race
}

// Each block reads only what its own threads wrote before its barrier.
__global__ void clean_block_local_read(float* data, float* out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  data[i] = float(i);
  __syncthreads();
  const unsigned j = blockIdx.x * blockDim.x + (threadIdx.x + 1) % blockDim.x;
  out[i] = data[j];
}

// Reads in[offset]: offset n or n + 100 is past the end of an n-element allocation.
__global__ void planted_read(const float* in, float* out, int offset) { out[0] = in[offset]; }

int launch_race(bool planted) {
  float* out = static_cast<float*>(emu::device_alloc(sizeof(float), "out"));
  emu::launch(planted ? planted_shared_sum_race : clean_shared_sum, dim3(1), dim3(256), 0, out);
  std::printf("sum %g\n", double(out[0]));
  emu::device_free(out);
  return 0;
}

int launch_cross_block(bool planted) {
  const size_t n = 2 * 64;
  auto* data = static_cast<float*>(emu::device_alloc(n * sizeof(float), "data"));
  auto* out = static_cast<float*>(emu::device_alloc(n * sizeof(float), "out"));
  if (planted) {
    emu::launch(planted_cross_block_read, dim3(2), dim3(64), 0, data, out);
  } else {
    emu::launch(clean_block_local_read, dim3(2), dim3(64), 0, data, out);
  }
  std::printf("out[1] %g\n", double(out[1]));
  emu::device_free(data);
  emu::device_free(out);
  return 0;
}

int launch_read(int past_end) {
  const int n = 1000;
  auto* in = static_cast<float*>(emu::device_alloc(n * sizeof(float), "in"));
  auto* out = static_cast<float*>(emu::device_alloc(sizeof(float), "out"));
  std::vector<float> ones(n, 1.0f);
  std::memcpy(in, ones.data(), n * sizeof(float));
  emu::launch(planted_read, dim3(1), dim3(1), 0, static_cast<const float*>(in), out, n - 1 + past_end);
  std::printf("read %g\n", double(out[0]));
  emu::device_free(in);
  emu::device_free(out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string probe = argc == 2 ? argv[1] : "";
  // One OS thread: the two blocks of the cross-block probes run one after the other, and must still be unordered.
  emu::Config config = emu::config();
  config.threads = 1;
  emu::set_config(config);
  if (probe == "shared_sum_race") return launch_race(true);
  if (probe == "shared_sum_clean") return launch_race(false);
  if (probe == "cross_block_race") return launch_cross_block(true);
  if (probe == "cross_block_clean") return launch_cross_block(false);
  if (probe == "read_last") return launch_read(0);
  if (probe == "read_past_end") return launch_read(1);
  if (probe == "read_far_past_end") return launch_read(101);
  std::fprintf(stderr,
               "usage: emu_sanitizer_probes shared_sum_race|shared_sum_clean|cross_block_race|cross_block_clean|"
               "read_last|read_past_end|read_far_past_end\n");
  return 2;
}
