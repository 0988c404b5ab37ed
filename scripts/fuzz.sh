#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake/Fuzz.cmake: clang, AddressSanitizer and UBSan) in build/fuzz and runs
# each of them, all at once (one core each):
#   1. replays its corpus, tests/fuzz/corpus/<target>: every input there must pass (the regression inputs
#      of fixed findings live there too);
#   2. fuzzes for a bounded time from that corpus; new inputs go to build/fuzz/corpus/<target>, never into
#      the repository, and a crashing input is kept as build/fuzz/findings/<target>/crash-* (rerun it with
#      build/fuzz/worldpm_fuzz_<target> FILE);
#   3. replays its known findings, tests/fuzz/known/<target> (README.md there): inputs that crash today
#      through bugs being fixed elsewhere, reported as skipped, not failed, and named when one stops crashing.
# Prints each run's executions and their total.
#
#   scripts/fuzz.sh [--seconds N] [--junit FILE]
#
#   --seconds N    fuzzing time per target (default: WORLDPM_FUZZ_SECONDS, else 60)
#   --junit FILE   also write the outcome as JUnit XML (one case per step and target), for scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source "$root/scripts/lib/junit.sh"

fuzz_seconds=${WORLDPM_FUZZ_SECONDS:-60}
junit=""
while (($#)); do
  case "$1" in
    --seconds) fuzz_seconds=${2:?--seconds needs a number}; shift ;;
    --junit) junit=$(realpath -m "${2:?--junit needs a file}"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1' (expected --seconds N or --junit FILE)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$fuzz_seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds must be a whole number, not '$fuzz_seconds'" >&2; exit 2; }

targets=(abi_calls env_parsers)
build=$root/build/fuzz
# The arrays junit_write reads.
names=() results=() seconds=() messages=()
record() { names+=("$1"); results+=("$2"); seconds+=("$3"); messages+=("${4:-}"); }
started=$SECONDS

echo "== fuzz targets: build (clang-14, build/fuzz)"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
build_start=$SECONDS
if CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -DWORLDPM_FUZZ=ON -DWORLDPM_CUDA=OFF -DWORLDPM_TESTS=OFF \
     -DWORLDPM_BENCH=OFF "${launcher[@]}" >"$build.configure.log" 2>&1 \
   && cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/worldpm_fuzz_}" >"$build.build.log" 2>&1; then
  record build passed $((SECONDS - build_start))
else
  tail -30 "$build.configure.log" "$build.build.log" 2>/dev/null >&2 || true
  record build failed $((SECONDS - build_start)) "the fuzz targets did not build (build/fuzz.*.log)"
  targets=()
fi

# Replay (the binary given files runs each once and stops at the first crash).
replay() {  # TARGET DIR -> 0 when every input passes
  local files=("$2"/*)
  [[ -e "${files[0]}" ]] || return 0
  "$build/worldpm_fuzz_$1" "${files[@]}" >"$build/$1.$(basename "$2").log" 2>&1
}
for t in "${targets[@]}"; do
  replay_start=$SECONDS
  if replay "$t" "tests/fuzz/corpus/$t"; then
    record "$t.corpus_replay" passed $((SECONDS - replay_start))
  else
    record "$t.corpus_replay" failed $((SECONDS - replay_start)) "an input of tests/fuzz/corpus/$t crashes: build/fuzz/$t.$t.log"
  fi
done

echo "== fuzz targets: ${fuzz_seconds} s each"
pids=()
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/findings/$t"
  # A call that asks for more memory than there is must get WPM_ERR_OUT_OF_MEMORY, as it does from the system's
  # allocator: allocator_may_return_null makes ASan's allocator fail such a request instead of aborting.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1" \
  "$build/worldpm_fuzz_$t" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$build/findings/$t/" "$build/corpus/$t" "tests/fuzz/corpus/$t" \
    >"$build/$t.fuzz.log" 2>&1 &
  pids+=($!)
done
total_executions=0
for i in "${!targets[@]}"; do
  t=${targets[$i]}
  rc=0
  wait "${pids[$i]}" || rc=$?
  executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$build/$t.fuzz.log" | grep -o '[0-9]*$' || echo 0)
  total_executions=$((total_executions + executions))
  echo "fuzz.sh: $t: $executions executions in $fuzz_seconds s (exit $rc)"
  if ((rc == 0)); then
    record "$t.fuzz" passed "$fuzz_seconds"
  else
    grep -m3 -E 'SUMMARY|ERROR|abi_calls_fuzz:|env_parsers_fuzz:' "$build/$t.fuzz.log" >&2 || true
    record "$t.fuzz" failed "$fuzz_seconds" "a finding: build/fuzz/findings/$t (log build/fuzz/$t.fuzz.log)"
  fi
done
echo "fuzz.sh: $total_executions executions in total"

# Known findings (tests/fuzz/known/README.md).
for t in "${targets[@]}"; do
  for input in tests/fuzz/known/"$t"/*; do
    [[ -f "$input" ]] || continue
    if "$build/worldpm_fuzz_$t" "$input" >"$build/known.log" 2>&1; then
      echo "fuzz.sh: known finding $input no longer crashes: move it to tests/fuzz/corpus/$t (README.md there)"
      record "$t.known.$(basename "$input")" passed 0
    else
      echo "fuzz.sh: known finding $input still crashes: $(grep -m1 SUMMARY "$build/known.log" || echo '(no summary)')"
      record "$t.known.$(basename "$input")" skipped 0
    fi
  done
done

[[ -z "$junit" ]] || junit_write "$junit" fuzz $((SECONDS - started))
for r in "${results[@]}"; do [[ "$r" != failed ]] || exit 1; done
