// Optional shared libraries opened at run time (oneDNN, OpenMPI, NCCL; OpenBLAS,
// which has several possible names, in cpu/blas.cpp): libworldpm.so links none of
// them, so it loads where they are missing, and the call that needs one says
// which file is missing and what to install.
//
// Each loader fills a table of entry points once per process (a function-local
// static) and keeps the handle open for the life of the process.
#pragma once

#include <string>

namespace wpm {

// One library opened with dlopen: its handle, or why it could not be opened.
struct OpenedLibrary {
  void* handle = nullptr;
  std::string file;     // what was opened: the override's path, else the default name
  std::string problem;  // empty when open
};

// Opens the path in the environment variable `override_variable` when it is set
// and not empty (read now, so the first use decides), else `default_name`.
// On failure `problem` is short, since it goes into the fixed-size reason fields
// of wpm_backend_info and wpm_comm_info: "FILE not found; INSTALL_HINT".
OpenedLibrary open_runtime_library(const char* override_variable, const char* default_name, int dlopen_flags,
                                   const char* install_hint);

// Looks up functions and objects in an opened library. The first name missing
// becomes the problem ("FILE has no NAME" and the hint, e.g. "(not OpenMPI 4?)").
class SymbolBinder {
 public:
  SymbolBinder(void* handle, std::string file, std::string missing_hint, std::string* problem)
      : handle_(handle), file_(std::move(file)), missing_hint_(std::move(missing_hint)), problem_(problem) {}

  // A function pointer, or the address of a global object (for handles such as
  // OpenMPI's predefined communicators), into *slot.
  template <class T>
  void operator()(const char* name, T* slot) {
    *slot = reinterpret_cast<T>(lookup(name));
  }

 private:
  void* lookup(const char* name);

  void* handle_;
  std::string file_;
  std::string missing_hint_;
  std::string* problem_;
};

// A loaded table of entry points, or the reason it is not there.
template <class Table>
struct LoadedLibrary {
  Table library{};
  std::string problem;  // empty when loaded

  // The table, or null with the reason in *why (when why is not null).
  const Table* or_why(std::string* why) const {
    if (problem.empty()) return &library;
    if (why != nullptr) *why = problem;
    return nullptr;
  }
};

}  // namespace wpm
