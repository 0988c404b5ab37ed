#include "emu_kernel_profile.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "../error.h"

namespace wpm {

namespace {

wpm_kernel_profile row_of(const char* kernel) {
  wpm_kernel_profile row{};
  row.struct_size = sizeof row;
  std::strncpy(row.kernel, *kernel ? kernel : "(unnamed)", sizeof row.kernel - 1);
  row.bytes_counted = emu::global_accesses_counted() ? 1 : 0;
  return row;
}

void add(wpm_kernel_profile& row, const emu::LaunchStats& s) {
  ++row.launches;
  row.bytes_read += s.global_read_bytes;
  row.bytes_written += s.global_write_bytes;
  row.shared_bytes_read += s.shared_read_bytes;
  row.shared_bytes_written += s.shared_write_bytes;
  row.min_bytes += s.min_bytes;
  row.mma_instructions += s.mma;
  row.mma_flops += s.mma_flops;
  row.other_flops += s.other_flops;
}

// A stand-in name for the GEMMs' rows: the emulator names its launches by a string literal.
constexpr const char* kGemm = "gemm";

}  // namespace

wpm_status EmuKernelProfile::start() {
  log_.reset();
  kept_.clear();
  try {
    log_ = std::make_unique<emu::LaunchStatsLog>();
  } catch (const std::logic_error&) {
    return fail_argument(WPM_ERR_UNSUPPORTED, "context",
                         "wpm_context_profile: another context of this process is counting (one at a time)");
  }
  return WPM_OK;
}

void EmuKernelProfile::stop() {
  kept_ = rows();
  log_.reset();
}

std::vector<wpm_kernel_profile> EmuKernelProfile::rows() const {
  if (!log_) return kept_;
  std::vector<wpm_kernel_profile> rows;
  for (const emu::LaunchStats& s : log_->launches()) {
    const char* name = *s.kernel ? s.kernel : "(unnamed)";
    size_t i = 0;
    while (i < rows.size() && std::strncmp(rows[i].kernel, name, sizeof rows[i].kernel - 1) != 0) ++i;
    if (i == rows.size()) rows.push_back(row_of(name));
    add(rows[i], s);
  }
  return rows;
}

void EmuKernelProfile::record_gemm(const GemmArgs& a) {
  const uint64_t elem = wpm_dtype_size(a.dtype), batch = uint64_t(a.batch);
  const uint64_t m = uint64_t(a.m), n = uint64_t(a.n), k = uint64_t(a.k);
  emu::LaunchStats s;
  s.kernel = kGemm;
  s.global_read_bytes = batch * elem * (m * k + k * n + (a.beta != 0.0f ? m * n : 0));
  s.global_write_bytes = batch * elem * m * n;
  s.min_bytes = s.global_read_bytes + s.global_write_bytes;
  s.mma_flops = 2 * batch * m * n * k;
  emu::record_host_work(s);
}

}  // namespace wpm
