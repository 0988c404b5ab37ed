#include "options.h"

#include <cstdlib>
#include <cstring>

namespace gpubench {

namespace {

bool parse_int(const char* text, int lo, int hi, int* out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi) return false;
  *out = int(v);
  return true;
}

}  // namespace

const char* usage() {
  return "usage: worldpm_gpu_bench [--quick] [--reps N] [--warmup N] [--filter SUBSTRING] [--json] [--warm-l2]";
}

bool parse_options(int argc, char** argv, Options* o, std::string* error) {
  int reps = -1, warmup = -1;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(a, "--quick")) o->quick = true;
    else if (!std::strcmp(a, "--json")) o->json = true;
    else if (!std::strcmp(a, "--warm-l2")) o->warm_l2 = true;
    else if (!std::strcmp(a, "--filter") && has_value) o->filter = argv[++i];
    else if (!std::strcmp(a, "--reps") && has_value) {
      if (!parse_int(argv[++i], 1, 200, &reps)) { *error = std::string("--reps ") + argv[i] + ": expected 1..200"; return false; }
    } else if (!std::strcmp(a, "--warmup") && has_value) {
      if (!parse_int(argv[++i], 0, 100, &warmup)) { *error = std::string("--warmup ") + argv[i] + ": expected 0..100"; return false; }
    } else {
      *error = std::string("unknown or incomplete argument '") + a + "'";
      return false;
    }
  }
  if (o->quick) { o->reps = 5; o->warmup = 1; }
  if (reps > 0) o->reps = reps;
  if (warmup >= 0) o->warmup = warmup;
  return true;
}

}  // namespace gpubench
