#include "arrival_board.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

namespace wpm::comm {
namespace {

constexpr const char* kWhy = " (stopped, died, or still starting)";

// The launcher's directory for this launch on this host, shared by its ranks there.
std::string launch_directory() {
  for (const char* name : {"PMIX_SERVER_TMPDIR", "OMPI_MCA_orte_jobfam_session_dir"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value == '/') return value;
  }
  return "";
}

std::string list(const std::string& items, const std::string& item) {
  return items + (items.empty() ? "" : ", ") + item;
}

}  // namespace

ArrivalBoard::ArrivalBoard(const LaunchEnv& env) : env_(env) {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name - 1) == 0) host_ = name;
  std::string base = launch_directory();
  if (env_.launched && !base.empty()) directory_ = base + "/worldpm-arrivals";
}

void ArrivalBoard::announce() {
  if (directory_.empty()) return;
  mkdir(directory_.c_str(), 0700);  // the first rank of the host makes it; EEXIST for the others
  std::string file = directory_ + "/rank-" + std::to_string(env_.rank);
  int fd = open(file.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    directory_.clear();  // cannot write there: say nothing rather than name every rank
    return;
  }
  [[maybe_unused]] ssize_t written = write(fd, host_.data(), host_.size());
  close(fd);
}

bool ArrivalBoard::arrived(int rank) const {
  return access((directory_ + "/rank-" + std::to_string(rank)).c_str(), F_OK) == 0;
}

std::string ArrivalBoard::absent() const {
  std::string absent;
  for (int rank = 0; rank < env_.world_size; ++rank)
    if (!arrived(rank)) absent = list(absent, "rank " + std::to_string(rank) + " (host " + host_ + ")");
  return absent;
}

bool ArrivalBoard::everyone_arrived() const {
  return !directory_.empty() && env_.local_size >= env_.world_size && absent().empty();
}

std::string ArrivalBoard::missing() const {
  const std::string total = std::to_string(env_.world_size);
  if (directory_.empty())
    return "a rank of the " + total + " did not arrive" + kWhy +
           "; which one cannot be seen from here (the launcher gives no per-launch directory)";
  if (env_.local_size >= env_.world_size) {  // one host: every rank should have left its file here
    std::string missing = absent();
    if (missing.empty()) return "every rank arrived, but one stopped or died inside MPI start-up";
    return missing + " did not arrive" + kWhy;
  }
  std::string here;
  int count = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("rank-", 0) != 0) continue;
    here = list(here, "rank " + name.substr(5));
    ++count;
  }
  const std::string host = "host " + host_;
  if (count < env_.local_size)
    return std::to_string(env_.local_size - count) + " of the " + std::to_string(env_.local_size) + " ranks on " +
           host + " did not arrive" + kWhy + " (arrived there: " + (here.empty() ? "none" : here) + ")";
  return "every rank on " + host + " arrived; a rank on another host of the " + total + " did not" + kWhy;
}

}  // namespace wpm::comm
