// libFuzzer target: the parsers the native library runs on text from the environment.
//
//   - the launcher's variables (native/src/comm/launch_env.cpp: OMPI_COMM_WORLD_*, PMIX_*, PMI_*, MPI_LOCAL*,
//     SLURM_*), which pick a rank's GPU before any MPI call;
//   - WORLDPM_EMU_SCHEDULE and WORLDPM_EMU_MMA (emu::parse_schedule, emu::parse_mma_accumulate).
//
// The first input byte picks the parser; the rest is its text (for the launcher, NUL-separated values of
// its variables in a fixed order, an empty value leaving the variable unset). Besides memory safety the
// target checks each parser against what its header documents, with a recogniser of its own for the
// documented grammar: every documented value is accepted with the value it spells, a refused value leaves
// the configuration as it was and says why.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "comm/launch_env.h"
#include "emu.h"

namespace {

[[noreturn]] void violation(const std::string& parser, const std::string& text, const char* what) {
  std::fprintf(stderr, "env_parsers_fuzz: %s('%s'): %s\n", parser.c_str(), text.c_str(), what);
  std::abort();
}

// ---------------------------------------------------------------- the launcher's environment

constexpr const char* kLaunchVariables[] = {
    "OMPI_COMM_WORLD_SIZE",       "PMIX_SIZE",       "PMI_SIZE",     "SLURM_NTASKS",
    "OMPI_COMM_WORLD_RANK",       "PMIX_RANK",       "PMI_RANK",     "SLURM_PROCID",
    "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID",
    "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"};
constexpr size_t kLaunchVariableCount = sizeof kLaunchVariables / sizeof kLaunchVariables[0];

// A plain decimal number without sign, spaces or leading '+' (what a launcher writes), or -1.
long long plain_decimal(const std::string& text) {
  if (text.empty() || text.size() > 18) return -1;
  long long value = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return -1;
    value = value * 10 + (ch - '0');
  }
  return value;
}

void check_launch_env(const std::vector<std::string>& values) {
  for (size_t i = 0; i < kLaunchVariableCount; ++i) {
    if (i < values.size() && !values[i].empty()) setenv(kLaunchVariables[i], values[i].c_str(), 1);
    else unsetenv(kLaunchVariables[i]);
  }
  const wpm::comm::LaunchEnv env = wpm::comm::read_launch_env();
  const std::string shown = values.empty() ? "" : values[0];
  if (env.world_size < 1) violation("read_launch_env", shown, "world_size below 1");
  if (env.rank < 0 || env.rank >= env.world_size) violation("read_launch_env", shown, "rank outside the world");
  if (env.local_rank < 0 || env.local_size < 1) violation("read_launch_env", shown, "negative local rank or size");
  if (env.launched != (env.world_size > 1)) violation("read_launch_env", shown, "launched disagrees with world_size");
  // OpenMPI's own variable comes first: a plain size it sets is the world size.
  const long long size = values.empty() ? -1 : plain_decimal(values[0]);
  if (size >= 1 && size < (1LL << 30) && env.world_size != size)
    violation("read_launch_env", shown, "OMPI_COMM_WORLD_SIZE not taken as the world size");
}

// ---------------------------------------------------------------- WORLDPM_EMU_SCHEDULE / WORLDPM_EMU_MMA

bool same_schedule(const emu::Config& a, const emu::Config& b) {
  return a.order == b.order && a.seed == b.seed && a.block_order == b.block_order && a.block_seed == b.block_seed;
}

// A documented seed: decimal digits that fit in 64 bits.
bool documented_seed(const std::string& digits, unsigned long long* seed) {
  if (digits.empty() || digits.size() > 20) return false;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return false;
  }
  errno = 0;
  *seed = std::strtoull(digits.c_str(), nullptr, 10);
  return errno == 0;
}

// The documented grammar THREADS[,blocks=BLOCKS], applied to `expected` when text follows it.
bool documented_schedule(const std::string& text, emu::Config& expected) {
  const size_t comma = text.find(',');
  const std::string threads = text.substr(0, comma);
  unsigned long long seed = 0;
  if (threads == "forward") expected.order = emu::Order::forward;
  else if (threads == "reverse") expected.order = emu::Order::reverse;
  else if (threads == "greedy") expected.order = emu::Order::greedy;
  else if (threads.rfind("random:", 0) == 0 && documented_seed(threads.substr(7), &seed))
    expected.order = emu::Order::random, expected.seed = seed;
  else return false;
  if (comma == std::string::npos) return true;
  const std::string blocks = text.substr(comma + 1);
  if (blocks.rfind("blocks=", 0) != 0) return false;
  const std::string order = blocks.substr(7);
  if (order == "forward") expected.block_order = emu::BlockOrder::forward;
  else if (order == "reverse") expected.block_order = emu::BlockOrder::reverse;
  else if (order.rfind("random:", 0) == 0 && documented_seed(order.substr(7), &seed))
    expected.block_order = emu::BlockOrder::random, expected.block_seed = seed;
  else return false;
  return true;
}

void check_schedule(const std::string& text) {
  emu::Config before;
  before.order = emu::Order::reverse;  // not the default, so a refused value visibly keeps it
  before.seed = 7;
  emu::Config parsed = before, expected = before;
  std::string error;
  const bool accepted = emu::parse_schedule(text, parsed, &error);
  if (!accepted && error.empty()) violation("parse_schedule", text, "refused without a message");
  if (!accepted && !same_schedule(parsed, before)) violation("parse_schedule", text, "refused but changed the config");
  if (documented_schedule(text, expected)) {
    if (!accepted) violation("parse_schedule", text, "refused a documented value");
    if (!same_schedule(parsed, expected)) violation("parse_schedule", text, "parsed a documented value wrongly");
  }
}

void check_mma(const std::string& text) {
  emu::Config config;
  config.mma = emu::MmaAccumulate::truncate;
  std::string error;
  const bool accepted = emu::parse_mma_accumulate(text, config, &error);
  const bool documented = text == "exact" || text == "truncate";
  if (accepted != documented) violation("parse_mma_accumulate", text, "accepts other than exact and truncate");
  if (!accepted && (error.empty() || config.mma != emu::MmaAccumulate::truncate))
    violation("parse_mma_accumulate", text, "refused without a message or changed the config");
  if (accepted && config.mma != (text == "exact" ? emu::MmaAccumulate::exact : emu::MmaAccumulate::truncate))
    violation("parse_mma_accumulate", text, "parsed wrongly");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      std::vector<std::string> values;
      size_t start = 0;
      while (values.size() < kLaunchVariableCount && start <= text.size()) {
        const size_t end = std::min(text.find('\0', start), text.size());
        values.push_back(text.substr(start, end - start));
        start = end + 1;
      }
      check_launch_env(values);
      break;
    }
    case 1: check_schedule(text); break;
    default: check_mma(text); break;
  }
  return 0;
}
