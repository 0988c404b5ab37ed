#!/usr/bin/env bash
# Checks the SASS nvcc produced for a kernel object, in every architecture the object holds:
#   - every INSTRUCTION named before --deny must appear, so a wrapper that silently falls back (e.g.
#     mma.sync becoming scalar FMAs) is caught;
#   - no INSTRUCTION named after --deny may appear: instructions that are legal but mark a performance
#     bug, e.g. STG.E.U8 (byte stores where packed halves should go out 4 or 16 bytes at a time) or
#     LDL / STL (local memory: spills or a register array indexed at run time).
# An instruction matches as a whole word or with further modifiers: LDL matches LDL.64 but not LDLU,
# STG.E.U8 matches STG.E.U8.STRONG.GPU, and STG.E matches every STG.E width.
#
#   scripts/check_sass.sh OBJECT [INSTRUCTION...] [--deny INSTRUCTION...]
#   e.g. ... attention.cu.o HMMA LDSM LDGSTS --deny STG.E.U8 LDG.E.U8 LDL STL
set -euo pipefail
object=$1
shift
[[ -f "$object" ]] || { echo "check_sass.sh: no object file '$object' (build the kernels first)" >&2; exit 2; }
required=()
denied=()
target=required
for arg in "$@"; do
  if [[ "$arg" == "--deny" ]]; then target=denied; continue; fi
  if [[ "$target" == required ]]; then required+=("$arg"); else denied+=("$arg"); fi
done
(( ${#required[@]} + ${#denied[@]} > 0 )) || { echo "check_sass.sh: no instruction to check" >&2; exit 2; }
sass=$(cuobjdump -sass "$object")
archs=$(grep -o 'arch = sm_[0-9]*' <<<"$sass" | sort -u | awk '{print $3}')
[[ -n "$archs" ]] || { echo "check_sass.sh: '$object' holds no SASS" >&2; exit 1; }

# The extended regex of an instruction (its dots literal) as an opcode, alone or followed by modifiers.
opcode_re() { echo "(^|[^A-Za-z0-9_.])${1//./[.]}([^A-Za-z0-9_]|$)"; }

status=0
for arch in $archs; do
  # The SASS of one architecture: from its "arch = sm_NN" header to the next one.
  section=$(awk -v a="arch = $arch" 'index($0, "arch = ") { on = index($0, a) > 0 } on' <<<"$sass")
  for instruction in "${required[@]}"; do
    count=$(grep -cE "$(opcode_re "$instruction")" <<<"$section" || true)
    if (( count == 0 )); then
      echo "check_sass.sh: $(basename "$object") $arch: no $instruction instruction" >&2
      status=1
    else
      echo "$(basename "$object") $arch: $instruction x$count"
    fi
  done
  for instruction in "${denied[@]}"; do
    count=$(grep -cE "$(opcode_re "$instruction")" <<<"$section" || true)
    if (( count > 0 )); then
      echo "check_sass.sh: $(basename "$object") $arch: $instruction x$count (denied); in the functions:" >&2
      # Which kernels hold them: the "Function : NAME" header above each occurrence.
      awk -v re="$(opcode_re "$instruction")" \
        '/Function : / { f = $NF } $0 ~ re { n[f]++ } END { for (k in n) print "  " n[k] "x " k }' <<<"$section" |
        c++filt | sed -E "s/\(anonymous namespace\):://; s/\(.*//" | sort >&2
      status=1
    else
      echo "$(basename "$object") $arch: no $instruction"
    fi
  done
done
exit $status
