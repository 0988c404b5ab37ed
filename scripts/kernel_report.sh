#!/usr/bin/env bash
# The kernel resource report: every kernel of kernels/*.cu compiled by nvcc for
# sm_80 and sm_90, with the registers, static shared memory, stack frame and spill
# bytes ptxas reports, and the threads per block its __launch_bounds__ allows
# (the cubin's EIATTR_MAX_THREADS; "-" without one). Writes the table to OUT (default: stdout only), prints
# it, and exits 1 when any kernel spills (docs/architecture.md, "Kernels": no spills).
#
#   scripts/kernel_report.sh [--quiet] [OUT]      (--quiet: print only spills and the summary)
#
# CMake runs it as part of the default build when nvcc exists (the report
# lands in the build directory as kernel_resources.txt and is rebuilt when a
# kernel changes); `cat build/native/kernel_resources.txt` shows the last one.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0
if [[ "${1:-}" == "--quiet" ]]; then quiet=1; shift; fi
out=${1:-}
nvcc=${CUDACXX:-nvcc}
host=${CUDAHOSTCXX:-clang++-14}
command -v "$nvcc" >/dev/null || { echo "kernel_report.sh: nvcc not found (scripts/setup.sh --cuda installs it)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
table=$work/table.txt
printf '%-44s %-6s %5s %7s %7s %6s %8s %8s\n' kernel arch regs smem threads stack spill_st spill_ld >"$table"
for cu in kernels/*.cu; do
  for arch in 80 90; do
    "$nvcc" -ccbin "$host" -std=c++17 -arch=sm_$arch -cubin -o "$work/k.cubin" -Xptxas -v -Ikernels/include -Icommon/include "$cu" \
      >"$work/ptxas.txt" 2>&1 || { cat "$work/ptxas.txt" >&2; echo "kernel_report.sh: nvcc failed on $cu (sm_$arch)" >&2; exit 1; }
    # Max threads per block by mangled entry name, from the .nv.info.NAME section of each entry.
    cuobjdump -elf "$work/k.cubin" | awk '
      /^\.nv\.info\./ { name = substr($1, 10) }
      /EIATTR_MAX_THREADS/ { want = 1 }
      want && /Value:/ { print name, $2; want = 0 }' >"$work/threads.txt"
    # ptxas prints, per entry: "Compiling entry function 'NAME'", then "N bytes stack frame, N bytes spill
    # stores, N bytes spill loads", then "Used N registers, [N bytes smem,] ...".
    awk -v arch="sm_$arch" '
      /Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); name = substr($0, RSTART + 1, RLENGTH - 2) }
      /bytes stack frame/ { stack = $1; spill_st = $5; spill_ld = $9 }
      /Used [0-9]+ registers/ {
        regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
        smem = 0; if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", smem) }
        print name, arch, regs, smem, stack, spill_st, spill_ld
      }' "$work/ptxas.txt" | while read -r name a regs smem stack st ld; do
        pretty=$(echo "$name" | c++filt | sed -E 's/\(anonymous namespace\):://; s/\(.*//')
        threads=$(awk -v n="$name" '$1 == n { print $2 }' "$work/threads.txt")
        threads=${threads:+$((threads))}
        printf '%-44s %-6s %5s %7s %7s %6s %8s %8s\n' "$pretty" "$a" "$regs" "$smem" "${threads:--}" "$stack" "$st" "$ld"
      done >>"$table"
  done
done

(( quiet )) || cat "$table"
if [[ -n "$out" ]]; then cp "$table" "$out"; fi
spills=$(awk 'NR > 1 && ($(NF - 1) > 0 || $NF > 0)' "$table")
if [[ -n "$spills" ]]; then
  echo "kernel_report.sh: kernels spill registers (fix them; docs/architecture.md, 'Kernels' allows no spills):" >&2
  echo "$spills" >&2
  exit 1
fi
echo "$(($(wc -l <"$table") - 1)) kernel instantiations, no spills"
