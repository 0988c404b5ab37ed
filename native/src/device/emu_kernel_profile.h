// The emu backend's work counters per kernel (wpm_context_profile): an emu::LaunchStatsLog while counting
// is on, its launches summed by kernel name into the ABI's rows.
#pragma once

#include <memory>
#include <vector>

#include "../backend.h"
#include "emu.h"
#include "worldpm.h"

namespace wpm {

class EmuKernelProfile {
 public:
  // Starts counting afresh; WPM_ERR_UNSUPPORTED naming 'context' while another log is open in the process.
  wpm_status start();
  // Stops counting, keeping the rows counted so far.
  void stop();
  // The rows so far (the open log's, or those kept by stop()).
  std::vector<wpm_kernel_profile> rows() const;
  // A GEMM of the emu backend (run by the CPU's BLAS): its formula's bytes and FLOPs, when counting.
  static void record_gemm(const GemmArgs& args);

 private:
  std::unique_ptr<emu::LaunchStatsLog> log_;
  std::vector<wpm_kernel_profile> kept_;
};

}  // namespace wpm
