#include "runtime_library.h"

#include <dlfcn.h>

#include <cstdlib>

namespace wpm {

OpenedLibrary open_runtime_library(const char* override_variable, const char* default_name, int dlopen_flags,
                                   const char* install_hint) {
  OpenedLibrary opened;
  const char* override_path = override_variable != nullptr ? std::getenv(override_variable) : nullptr;
  opened.file = override_path != nullptr && *override_path != '\0' ? override_path : default_name;
  opened.handle = dlopen(opened.file.c_str(), dlopen_flags);
  if (opened.handle == nullptr) {
    const char* raw = dlerror();
    std::string error = raw != nullptr ? raw : opened.file + " could not be opened";
    const std::string verbose = ": cannot open shared object file: No such file or directory";
    if (size_t at = error.find(verbose); at != std::string::npos) error.replace(at, verbose.size(), " not found");
    opened.problem = error + "; " + install_hint;
  }
  return opened;
}

void* SymbolBinder::lookup(const char* name) {
  void* address = dlsym(handle_, name);
  if (address == nullptr && problem_->empty()) {
    *problem_ = file_ + " has no " + name;
    if (!missing_hint_.empty()) *problem_ += " " + missing_hint_;
  }
  return address;
}

}  // namespace wpm
