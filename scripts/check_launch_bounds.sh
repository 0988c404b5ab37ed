#!/usr/bin/env bash
# Checks that every kernel declared __launch_bounds__(ARGS) begins its body with kernel_launch_bounds(ARGS);
# repeating ARGS exactly. The emulator cannot see the attribute (kemu.h defines it away), so that call is
# what makes it refuse a block larger than the bound, as CUDA does; a kernel without it runs any block size
# on the emulator and fails only on a GPU.
#
#   scripts/check_launch_bounds.sh FILE...     e.g. kernels/*.cu
# Prints each kernel that lacks the call (file:line, name, expected call) and a summary; exits 1 when any does.
set -euo pipefail
(( $# > 0 )) || { echo "check_launch_bounds.sh: no source file given" >&2; exit 2; }

kernels=0
missing=0
for file in "$@"; do
  [[ -f "$file" ]] || { echo "check_launch_bounds.sh: no file '$file'" >&2; exit 2; }
  while IFS=: read -r line _; do
    # The source from this declaration on, without // comments, as one line: the declarator, then the body.
    text=$(tail -n +"$line" "$file" | sed 's://.*$::' | tr '\n' ' ')
    bounds=$(grep -oE '^[^{]*__launch_bounds__\([^)]*\)' <<<"$text" |
             sed -E 's/.*__launch_bounds__\(([^)]*)\)$/\1/' || true)
    [[ -n "$bounds" ]] || continue  # not a declaration (the attribute named in a string or after a brace)
    kernels=$((kernels + 1))
    name=$(grep -oE '__launch_bounds__\([^)]*\)[[:space:]]*[A-Za-z_][A-Za-z_0-9]*' <<<"$text" | head -n 1 |
           sed -E 's/.*[[:space:])]//')
    # The body's first statement, after the first brace that follows the declarator (no ';' before it).
    if ! grep -qE '^[^{]*__launch_bounds__\(([^)]*)\)[^{;]*\{[[:space:]]*kernel_launch_bounds\(\1\);' <<<"$text"; then
      echo "$file:$line: $name is declared __launch_bounds__($bounds) but its body does not begin with" \
           "kernel_launch_bounds($bounds);" >&2
      missing=$((missing + 1))
    fi
  done < <(grep -n '__launch_bounds__(' "$file" | grep -v '^[0-9]*:[[:space:]]*//' || true)
done
if (( missing > 0 )); then
  echo "check_launch_bounds.sh: $missing of $kernels kernels lack kernel_launch_bounds()" >&2
  exit 1
fi
echo "check_launch_bounds.sh: all $kernels __launch_bounds__ kernels begin with kernel_launch_bounds()"
