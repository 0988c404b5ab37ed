#!/usr/bin/env bash
# Checks that a compiled kernel object really contains the instructions its
# source asks for, so a wrapper that silently falls back (e.g. mma.sync
# becoming scalar FMAs) is caught: every INSTRUCTION must appear in the SASS
# of every architecture in the object.
#
#   scripts/check_sass.sh OBJECT INSTRUCTION...     e.g. ... mma_probe.cu.o HMMA LDSM LDGSTS
set -euo pipefail
object=$1
shift
[[ -f "$object" ]] || { echo "check_sass.sh: no object file '$object' (build the kernels first)" >&2; exit 2; }
sass=$(cuobjdump -sass "$object")
archs=$(grep -o 'arch = sm_[0-9]*' <<<"$sass" | sort -u | awk '{print $3}')
[[ -n "$archs" ]] || { echo "check_sass.sh: '$object' holds no SASS" >&2; exit 1; }
status=0
for arch in $archs; do
  # The SASS of one architecture: from its "arch = sm_NN" header to the next one.
  section=$(awk -v a="arch = $arch" 'index($0, "arch = ") { on = index($0, a) > 0 } on' <<<"$sass")
  for instruction in "$@"; do
    count=$(grep -c "\b$instruction\b\|\b$instruction\." <<<"$section" || true)
    if (( count == 0 )); then
      echo "check_sass.sh: $(basename "$object") $arch: no $instruction instruction" >&2
      status=1
    else
      echo "$(basename "$object") $arch: $instruction x$count"
    fi
  done
done
exit $status
