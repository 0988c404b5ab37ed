// The one UndefinedBehaviorSanitizer handler the emulated kernels need. They are
// compiled with -fsanitize=alignment -fno-sanitize-recover=alignment (cmake/Emulator.cmake),
// which makes every typed access through a pointer check the pointer's alignment and
// call this function on a misaligned one: a float4 read through reinterpret_cast at
// a 4-byte offset works on a CPU but faults on a GPU. Defining the handler here,
// instead of linking libubsan, turns the report into a kernel error that names
// file:line (the launch fails with emu::LaunchError, the C ABI with a status) and
// keeps libworldpm.so free of a sanitizer runtime dependency.
//
// The argument layout is the sanitizer ABI that GCC and Clang share (version 1 of the
// type-mismatch check): a source location, the accessed type, log2 of the alignment
// the type needs, and the kind of access.
#include <cstdint>
#include <cstdio>
#include <string>

#include "emu.h"

namespace {

struct SourceLocation {
  const char* file;
  uint32_t line;
  uint32_t column;
};

struct TypeDescriptor {
  uint16_t kind;
  uint16_t info;
  char name[1];  // NUL-terminated, already quoted: 'float4'
};

struct TypeMismatchData {
  SourceLocation location;
  const TypeDescriptor* type;
  unsigned char log_alignment;
  unsigned char check_kind;
};

const char* access_kind(unsigned char kind) {
  switch (kind) {
    case 0: return "load of";
    case 1: return "store to";
    case 2: return "reference binding to";
    case 3: return "member access within";
    case 4: return "member call on";
    default: return "access to";
  }
}

}  // namespace

// Declared as GCC declares it built in (two pointers): with a sanitizer on the whole file (the emulator's
// sanitizer builds, WORLDPM_EMU_SANITIZE) any other parameter types clash with that declaration.
extern "C" [[noreturn]] void __ubsan_handle_type_mismatch_v1_abort(void* raw_data, void* pointer) {
  const auto* data = static_cast<const TypeMismatchData*>(raw_data);
  char address[32];
  std::snprintf(address, sizeof address, "%p", pointer);
  const std::string message = std::string(data->location.file) + ":" + std::to_string(data->location.line) +
                              ": misaligned " + access_kind(data->check_kind) + " type " + data->type->name +
                              " at address " + address + ", which needs " +
                              std::to_string(1u << data->log_alignment) + "-byte alignment";
  emu::detail::kernel_error(message);
}
