#!/usr/bin/env bash
# Checks that libworldpm.so loads on any glibc >= 2.34 Linux without other
# packages: its dynamic section may need only glibc's own libraries, no symbol
# may need a glibc version newer than 2.34, and it exports only the C ABI
# (wpm_*), so the C++ runtime linked into it never clashes with the host's.
# Everything else (OpenBLAS, oneDNN, MPI, NCCL) is opened at run time.
#
#   scripts/check_load_dependencies.sh LIBRARY      e.g. build/native/libworldpm.so
set -euo pipefail
library=${1:?usage: check_load_dependencies.sh LIBRARY}
[[ -f "$library" ]] || { echo "check_load_dependencies.sh: no file '$library' (build the library first)" >&2; exit 2; }

allowed_needed="libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 ld-linux-x86-64.so.2"
max_glibc=2.34
status=0

# NEEDED entries: "0x... (NEEDED)  Shared library: [libfoo.so.1]"
needed=$(readelf -d "$library" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[[ -n "$needed" ]] || { echo "check_load_dependencies.sh: '$library' has no NEEDED entries: not a dynamic library?" >&2; exit 2; }
for lib in $needed; do
  if [[ " $allowed_needed " == *" $lib "* ]]; then
    echo "NEEDED $lib: allowed"
  else
    echo "check_load_dependencies.sh: $(basename "$library") needs $lib at load time; only $allowed_needed are allowed" \
         "(open it at run time with dlopen, or link it statically)" >&2
    status=1
  fi
done

# Version needs: readelf -V lists every "Name: GLIBC_2.x" the library asks of its NEEDED libraries.
versions=$(readelf -V "$library" | grep -o 'Name: GLIBC_[0-9.]*' | sed 's/Name: GLIBC_//' | sort -uV)
newest=$(tail -n 1 <<<"$versions")
for version in $versions; do
  if [[ $(printf '%s\n%s\n' "$version" "$max_glibc" | sort -V | tail -n 1) != "$max_glibc" ]]; then
    symbols=$(objdump -T "$library" | grep -F "(GLIBC_$version)" | awk '{print $NF}' | tr '\n' ' ')
    echo "check_load_dependencies.sh: $(basename "$library") needs GLIBC_$version (newer than $max_glibc) for: $symbols" >&2
    status=1
  fi
done
echo "newest glibc version needed: GLIBC_${newest:-none} (at most $max_glibc allowed)"

# Exports: defined dynamic symbols must all be wpm_* (the C ABI).
others=$(nm -D --defined-only "$library" | awk '{print $NF}' | grep -v '^wpm_' || true)
if [[ -n "$others" ]]; then
  echo "check_load_dependencies.sh: $(basename "$library") exports symbols outside the C ABI (wpm_*):" \
       "$(head -n 10 <<<"$others" | tr '\n' ' ')$( (( $(wc -l <<<"$others") > 10 )) && echo "... ($(wc -l <<<"$others") in all)")" >&2
  status=1
else
  echo "exports: $(nm -D --defined-only "$library" | wc -l) symbols, all wpm_*"
fi
exit $status
