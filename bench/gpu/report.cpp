#include "report.h"

#include <cmath>
#include <cstdio>

namespace gpubench {

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // no control characters in names or shapes
    out += c;
  }
  return out + "\"";
}

// NaN and inf are not JSON numbers.
std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string percent(double fraction) {
  if (!std::isfinite(fraction)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * fraction);
  return buf;
}

const char* timing_note(const Timing& t) { return t.gate_timed_out ? "  (gate timed out: includes host gaps)" : ""; }

}  // namespace

void Report::device(int index, const cudaDeviceProp& p, int sm_clock_khz, int mem_clock_khz, int bus_bits,
                    int driver_version, int runtime_version) {
  // DDR: two transfers per memory clock.
  const double dram_gbps = 2.0 * mem_clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
  const double mem_gib = double(p.totalGlobalMem) / double(1ull << 30);
  if (json_) {
    std::printf("{\"device\":%s,\"index\":%d,\"cc\":\"%d.%d\",\"sms\":%d,\"sm_clock_mhz\":%d,\"mem_clock_mhz\":%d,"
                "\"bus_bits\":%d,\"memory_gib\":%s,\"l2_bytes\":%d,\"dram_gbps_theoretical\":%s,"
                "\"driver\":%d,\"runtime\":%d}\n",
                json_string(p.name).c_str(), index, p.major, p.minor, p.multiProcessorCount, sm_clock_khz / 1000,
                mem_clock_khz / 1000, bus_bits, json_number(mem_gib).c_str(), p.l2CacheSize,
                json_number(dram_gbps).c_str(), driver_version, runtime_version);
    return;
  }
  std::printf("device %d: %s, compute capability %d.%d, %d SMs, SM clock %d MHz (max)\n", index, p.name, p.major,
              p.minor, p.multiProcessorCount, sm_clock_khz / 1000);
  std::printf("memory: %.1f GiB, %d-bit bus at %d MHz (%.0f GB/s theoretical), L2 %.1f MiB; driver %d, runtime %d\n",
              mem_gib, bus_bits, mem_clock_khz / 1000, dram_gbps, p.l2CacheSize / 1048576.0, driver_version,
              runtime_version);
}

void Report::gemm_ceiling(kdtype dtype, int64_t n, const Timing& t, double tflops) {
  const char* math = dtype == kdtype::f32 ? "fp32 math, no TF32" : "tensor cores, fp32 accumulate";
  if (json_) {
    std::printf("{\"ceiling\":\"gemm\",\"dtype\":\"%s\",\"shape\":\"%lldx%lldx%lld\",\"median_ms\":%s,\"min_ms\":%s,"
                "\"tflops\":%s,\"reps\":%d}\n",
                dtype_name(dtype), (long long)n, (long long)n, (long long)n, json_number(t.median_ms).c_str(),
                json_number(t.min_ms).c_str(), json_number(tflops).c_str(), t.reps);
    return;
  }
  std::printf("ceiling gemm %-4s %lld^3 (cuBLASLt, %s): %8.2f TFLOP/s  (median %.3f ms, min %.3f ms)%s\n",
              dtype_name(dtype), (long long)n, math, tflops, t.median_ms, t.min_ms, timing_note(t));
}

void Report::copy_ceiling(size_t bytes, const Timing& t, double gbps) {
  if (json_) {
    std::printf("{\"ceiling\":\"copy\",\"dtype\":\"bytes\",\"shape\":\"%zu bytes\",\"median_ms\":%s,\"min_ms\":%s,"
                "\"gbps\":%s,\"reps\":%d}\n",
                bytes, json_number(t.median_ms).c_str(), json_number(t.min_ms).c_str(), json_number(gbps).c_str(),
                t.reps);
    return;
  }
  std::printf("ceiling copy %.0f MiB device to device (cudaMemcpyAsync, bytes read + written): %8.1f GB/s  "
              "(median %.3f ms, min %.3f ms)%s\n",
              bytes / 1048576.0, gbps, t.median_ms, t.min_ms, timing_note(t));
}

void Report::kernel(const Work& w, const Timing& t, double rate, double fraction) {
  const bool compute = w.bound == Bound::compute;
  if (json_) {
    std::printf("{\"kernel\":%s,\"dtype\":%s,\"shape\":%s,\"median_ms\":%s,\"min_ms\":%s,\"%s\":%s,"
                "\"fraction_of_ceiling\":%s,\"ceiling\":\"%s%s\",\"reps\":%d,\"formula\":%s%s}\n",
                json_string(w.kernel).c_str(), json_string(w.dtype).c_str(), json_string(w.shape).c_str(),
                json_number(t.median_ms).c_str(), json_number(t.min_ms).c_str(), compute ? "tflops" : "gbps",
                json_number(rate).c_str(), json_number(fraction).c_str(), compute ? "gemm " : "copy",
                compute ? dtype_name(w.gemm_dtype) : "", t.reps, json_string(w.formula).c_str(),
                t.gate_timed_out ? ",\"gate_timed_out\":true" : "");
    std::fflush(stdout);
    return;
  }
  if (!header_printed_) {
    std::printf("\n%-22s %-18s %-30s %10s %10s %10s %-7s %8s %-9s %s\n", "kernel", "dtype", "shape", "median ms",
                "min ms", "rate", "unit", "of ceil", "ceiling", "counted as");
    header_printed_ = true;
  }
  const std::string ceiling = compute ? std::string("gemm ") + dtype_name(w.gemm_dtype) : "copy";
  std::printf("%-22s %-18s %-30s %10.4f %10.4f %10.2f %-7s %8s %-9s %s%s\n", w.kernel.c_str(), w.dtype.c_str(),
              w.shape.c_str(), t.median_ms, t.min_ms, rate, compute ? "TFLOP/s" : "GB/s", percent(fraction).c_str(),
              ceiling.c_str(), w.formula.c_str(), timing_note(t));
  std::fflush(stdout);
}

void Report::failure(const std::string& what, const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "worldpm_gpu_bench: FAILED %s: %s\n", what.c_str(), message.c_str());
}

}  // namespace gpubench
